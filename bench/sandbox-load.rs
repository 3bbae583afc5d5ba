//! Load check of the sandbox (loopback only, bounded in time, stops by itself).
//!
//! 1. Rate limit: a sandbox at 10 requests/second, 100 concurrent clients hammering it for
//!    5 seconds: expect about 50 successes, every other answer a 429, and the
//!    `Ratelimit-Limit-Second` / `Ratelimit-Remaining-Second` headers on every response.
//! 2. Throughput: no rate limit, no latency, 32 concurrent clients for 5 seconds: report
//!    requests per second served (target: at least 2,000/s on a 2-core machine).
//!
//! Run with a release build: `cargo run --release --example sandbox-load`.
//! Exits non-zero when a check fails.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gladly_runner::sandbox::{self, SandboxOptions};

/// Counters shared by the client tasks of one phase.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
    bad_headers: AtomicU64,
}

async fn hammer(
    opts: SandboxOptions,
    clients: usize,
    run_for: Duration,
) -> (Arc<Tally>, Duration, Option<u32>) {
    let limit = opts.rate_limit;
    let sandbox = sandbox::start(opts).await.expect("sandbox starts");
    let url = format!("{}/api/v1/inboxes", sandbox.base_url());
    let (user, token) = (sandbox.username().to_owned(), sandbox.token().to_owned());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + run_for;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, user, token, tally) = (
            http.clone(),
            url.clone(),
            user.clone(),
            token.clone(),
            Arc::clone(&tally),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let Ok(response) = http.get(&url).basic_auth(&user, Some(&token)).send().await
                else {
                    tally.other.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if !headers_ok(response.headers(), limit) {
                    tally.bad_headers.fetch_add(1, Ordering::Relaxed);
                }
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default();
                match status {
                    200 => tally.ok.fetch_add(1, Ordering::Relaxed),
                    429 if body.starts_with(b"{\"errors\":[") => {
                        tally.limited.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => tally.other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed();
    sandbox.shutdown().await;
    (tally, elapsed, limit)
}

fn headers_ok(headers: &reqwest::header::HeaderMap, limit: Option<u32>) -> bool {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
    };
    match (
        number("ratelimit-limit-second"),
        number("ratelimit-remaining-second"),
        limit,
    ) {
        (Some(l), Some(r), Some(limit)) => l == limit && r <= l,
        (Some(_), Some(_), None) => true,
        _ => false,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut failed = false;

    let limited = SandboxOptions {
        rate_limit: Some(10),
        ..SandboxOptions::default()
    };
    let (t, elapsed, _) = hammer(limited, 100, Duration::from_secs(5)).await;
    let (ok, limited, other, bad) = (
        t.ok.load(Ordering::Relaxed),
        t.limited.load(Ordering::Relaxed),
        t.other.load(Ordering::Relaxed),
        t.bad_headers.load(Ordering::Relaxed),
    );
    println!(
        "rate limit 10/s, 100 clients, {:.1}s: {ok} x 200, {limited} x 429, {other} other, {bad} responses with wrong Ratelimit headers",
        elapsed.as_secs_f64()
    );
    if !(45..=60).contains(&ok) || other > 0 || bad > 0 || limited == 0 {
        println!("FAIL: expected about 50 successes, the rest 429, headers on every response");
        failed = true;
    }

    let open = SandboxOptions {
        rate_limit: None,
        ..SandboxOptions::default()
    };
    let (t, elapsed, _) = hammer(open, 32, Duration::from_secs(5)).await;
    let (ok, other, bad) = (
        t.ok.load(Ordering::Relaxed),
        t.other.load(Ordering::Relaxed),
        t.bad_headers.load(Ordering::Relaxed),
    );
    let per_second = ok as f64 / elapsed.as_secs_f64();
    println!(
        "no limit, no latency, 32 clients, {:.1}s: {ok} x 200 ({per_second:.0} requests/s), {other} other, {bad} bad headers",
        elapsed.as_secs_f64()
    );
    if per_second < 2000.0 || other > 0 || bad > 0 {
        println!("FAIL: expected at least 2,000 requests/s");
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
