//! Whether to send a request again, and when: the answer to one attempt (a status, a
//! timeout, a dropped connection) becomes a [`Decision`]. It owns the backoff schedule,
//! the reading of `Retry-After`, the 429 throttle budget and the rule for which writes are
//! safe to repeat. It sends nothing, sleeps nothing and reads no clock or random source:
//! the engine passes the time and the jitter in, and acts on the decision.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime};

/// The label a row gets when a write may or may not have been applied.
pub(crate) const OUTCOME_UNKNOWN: &str = "outcome unknown — check before re-running";

/// The first wait after a 429 without `Retry-After`, before jitter.
pub(crate) const THROTTLE_BASE: Duration = Duration::from_secs(1);

/// The longest wait after a 429 without `Retry-After`, before jitter.
pub(crate) const THROTTLE_CAP: Duration = Duration::from_secs(30);

/// The longest `Retry-After` honoured as given; a longer one (or a far-future date) is
/// read as this, so one odd header cannot park a run for hours.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(5 * 60);

/// The most jitter added on top of a server's `Retry-After`.
pub(crate) const RETRY_AFTER_JITTER: Duration = Duration::from_millis(250);

/// How hard to try: attempt count and backoff for failures, time budget for 429s.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RetryPolicy {
    /// Total attempts (the first one included) for 5xx, timeouts and connection errors.
    pub max_attempts: u32,
    /// The backoff before the first retry, before jitter; it doubles on each retry.
    pub base_delay: Duration,
    /// The longest backoff between two attempts.
    pub max_delay: Duration,
    /// Total time one row may spend waiting on 429s before it fails.
    pub throttle_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            throttle_budget: Duration::from_secs(15 * 60),
        }
    }
}

/// What came back from one attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Attempt {
    /// A response, with its `Retry-After` already parsed (see [`parse_retry_after`]).
    Status {
        /// The HTTP status code.
        status: u16,
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// No response within the timeout.
    Timeout,
    /// The connection failed or was reset before a response arrived.
    Connection,
    /// The connection could not be opened, so the request never left: safe to send again
    /// whatever the method.
    NotSent,
}

/// What to do next.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Decision {
    /// Hand the response to the manifest's rules: 2xx, 3xx, 4xx other than 401, 403 and
    /// 429, and a 5xx on the last allowed attempt of a request that is safe to repeat.
    Accept,
    /// Send the same request again after `after`.
    Retry {
        /// The backoff to sleep first.
        after: Duration,
        /// What went wrong, for logs (`HTTP 503`, `timed out`, `connection failed`).
        reason: String,
    },
    /// 429: pause every worker for `after`, then send the same request again. A 429 is
    /// never counted as an attempt.
    Throttled {
        /// How long the whole run should hold new requests.
        after: Duration,
    },
    /// 401 or 403: the credentials are wrong or lack permission; stop the whole run.
    Unauthorized(u16),
    /// Stop trying this row: no response after every attempt, or the throttle budget spent.
    GiveUp {
        /// Why, for the results file.
        reason: String,
    },
    /// A write that is not safe to repeat got no usable answer, so it may or may not have
    /// been applied. Record [`OUTCOME_UNKNOWN`]; never retry it.
    OutcomeUnknown {
        /// Starts with [`OUTCOME_UNKNOWN`], then what happened.
        reason: String,
    },
}

/// Decides what to do after one attempt.
///
/// `attempt_no` is 1-based and counts the attempts made so far, this one included; 429s
/// are not attempts, so the caller does not count them. `throttled_so_far` is the time this
/// row has already spent waiting on 429 pauses (its own or another worker's): it picks the
/// next throttle wait (see [`throttle_streak`]) and enforces the budget. `jitter` is a
/// uniform random number in `[0, 1)`.
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: &Attempt,
    attempt_no: u32,
    safe_to_retry: bool,
    throttled_so_far: Duration,
    jitter: f64,
) -> Decision {
    let last = attempt_no >= policy.max_attempts.max(1);
    let what = match *attempt {
        Attempt::Status {
            status: status @ (401 | 403),
            ..
        } => return Decision::Unauthorized(status),
        Attempt::Status {
            status: 429,
            retry_after,
        } => return decide_throttle(policy, retry_after, throttled_so_far, jitter),
        Attempt::Status {
            status: status @ 500..=599,
            retry_after,
        } => {
            if safe_to_retry && last {
                // The manifest's `5xx` rule, or the default failure, records the status.
                return Decision::Accept;
            }
            if safe_to_retry {
                // A 503 with `Retry-After` says when the server expects to be back.
                let after = backoff(policy, attempt_no, jitter)
                    .max(retry_after.unwrap_or(Duration::ZERO).min(policy.max_delay));
                return Decision::Retry {
                    after,
                    reason: format!("HTTP {status}"),
                };
            }
            format!("HTTP {status}")
        }
        Attempt::Status { .. } => return Decision::Accept,
        Attempt::Timeout => "timed out".to_owned(),
        Attempt::Connection => "connection failed".to_owned(),
        Attempt::NotSent => "could not connect".to_owned(),
    };
    let never_sent = matches!(attempt, Attempt::NotSent);
    if !safe_to_retry && !never_sent {
        Decision::OutcomeUnknown {
            reason: format!("{OUTCOME_UNKNOWN}: {what} on a write that is not safe to repeat"),
        }
    } else if last {
        Decision::GiveUp {
            reason: format!("no response after {attempt_no} attempts (last: {what})"),
        }
    } else {
        Decision::Retry {
            after: backoff(policy, attempt_no, jitter),
            reason: what,
        }
    }
}

fn decide_throttle(
    policy: &RetryPolicy,
    retry_after: Option<Duration>,
    throttled_so_far: Duration,
    jitter: f64,
) -> Decision {
    if throttled_so_far >= policy.throttle_budget {
        return Decision::GiveUp {
            reason: format!(
                "still rate limited (429) after waiting {} in total; the throttle budget is {}",
                show(throttled_so_far),
                show(policy.throttle_budget)
            ),
        };
    }
    Decision::Throttled {
        after: throttle_wait(retry_after, throttle_streak(throttled_so_far), jitter),
    }
}

/// The wait before retry number `attempt_no` (1 = the first retry, after one failed
/// attempt): `base_delay × 2^(attempt_no − 1)`, capped at `max_delay`, with equal jitter.
///
/// Equal jitter (half the step fixed, half random) keeps retries from different workers
/// apart like full jitter does, but never retries a failing server at once.
pub(crate) fn backoff(policy: &RetryPolicy, attempt_no: u32, jitter: f64) -> Duration {
    equal_jitter(
        exponential(policy.base_delay, attempt_no, policy.max_delay),
        jitter,
    )
}

/// How long every worker should hold after a 429.
///
/// With `Retry-After`: that (up to [`RETRY_AFTER_CAP`]) plus up to
/// [`RETRY_AFTER_JITTER`]. Without (Gladly documents none): 1 s doubling per consecutive
/// 429 (`consecutive_429` is 1 for the first), capped at 30 s, with equal jitter.
pub(crate) fn throttle_wait(
    retry_after: Option<Duration>,
    consecutive_429: u32,
    jitter: f64,
) -> Duration {
    match retry_after {
        Some(wait) => wait.min(RETRY_AFTER_CAP) + RETRY_AFTER_JITTER.mul_f64(unit(jitter)),
        None => equal_jitter(
            exponential(THROTTLE_BASE, consecutive_429, THROTTLE_CAP),
            jitter,
        ),
    }
}

/// How many 429 waits a row has sat through, counting itself: the `consecutive_429`
/// [`decide`] passes to [`throttle_wait`], read back from the time spent throttled.
///
/// It counts how many of the shortest possible waits of the schedule (half of 1 s, 2 s,
/// 4 s, …) fit in `throttled_so_far`, so the estimate never runs ahead of the real streak.
pub(crate) fn throttle_streak(throttled_so_far: Duration) -> u32 {
    let mut streak = 1;
    let mut shortest_total = Duration::ZERO;
    loop {
        let shortest = exponential(THROTTLE_BASE, streak, THROTTLE_CAP) / 2;
        if shortest == THROTTLE_CAP / 2 {
            // Every wait from here on is the same: count them instead of looping.
            let left = throttled_so_far.saturating_sub(shortest_total);
            let more = left.as_nanos() / shortest.as_nanos();
            return streak.saturating_add(u32::try_from(more).unwrap_or(u32::MAX));
        }
        shortest_total += shortest;
        if shortest_total > throttled_so_far {
            return streak;
        }
        streak += 1;
    }
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an HTTP-date in any of the three
/// forms RFC 9110 says a recipient must accept. A date in the past means "now"; anything
/// unreadable (including a negative number) is `None`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too large for u64: it still means "a very long time".
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn parse_http_date(value: &str) -> Option<SystemTime> {
    // IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) is RFC 2822 with a GMT zone.
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.into());
    }
    // The obsolete forms: RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    // (`Sun Nov  6 08:49:37 1994`), both in UTC.
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|at| at.and_utc().into())
}

/// Whether repeating a request cannot apply it twice.
///
/// GET, HEAD, OPTIONS, PUT and DELETE are idempotent by definition. PATCH is too in
/// Gladly: every PATCH sets the fields it names to the values given (arrays are replaced
/// whole, nothing increments or appends), so a repeat leaves the same state. POST is safe
/// only when the body carries a client-supplied id (a duplicate then fails with 409
/// `taken`, which counts as done) or the step is declared idempotent. Any other method is
/// treated like POST.
pub(crate) fn safe_to_retry(method: &str, body_has_client_id: bool, idempotent: bool) -> bool {
    const IDEMPOTENT: [&str; 6] = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"];
    IDEMPOTENT
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method.trim()))
        || body_has_client_id
        || idempotent
}

/// `base × 2^(step − 1)`, capped; `step` 0 counts as 1.
fn exponential(base: Duration, step: u32, cap: Duration) -> Duration {
    let doublings = i32::try_from(step.saturating_sub(1).min(64)).unwrap_or(64);
    let secs = base.as_secs_f64() * 2f64.powi(doublings);
    if secs >= cap.as_secs_f64() {
        cap
    } else {
        Duration::from_secs_f64(secs)
    }
}

/// Half of `step` fixed, the other half scaled by the jitter.
fn equal_jitter(step: Duration, jitter: f64) -> Duration {
    let half = step / 2;
    half + half.mul_f64(unit(jitter))
}

/// The jitter forced into `[0, 1]`, so a bad random source cannot stretch a wait.
fn unit(jitter: f64) -> f64 {
    if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A duration for a message: whole seconds, or minutes and seconds.
fn show(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_never_left_is_retried_even_when_unsafe() {
        let policy = RetryPolicy::default();
        let first = decide(&policy, &Attempt::NotSent, 1, false, Duration::ZERO, 0.5);
        assert!(matches!(first, Decision::Retry { .. }), "{first:?}");
        let last = decide(
            &policy,
            &Attempt::NotSent,
            policy.max_attempts,
            false,
            Duration::ZERO,
            0.5,
        );
        assert!(matches!(last, Decision::GiveUp { .. }), "{last:?}");
        let sent = decide(&policy, &Attempt::Connection, 1, false, Duration::ZERO, 0.5);
        assert!(matches!(sent, Decision::OutcomeUnknown { .. }), "{sent:?}");
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn status(status: u16) -> Attempt {
        Attempt::Status {
            status,
            retry_after: None,
        }
    }

    fn run(attempt: &Attempt, attempt_no: u32, safe: bool) -> Decision {
        decide(
            &RetryPolicy::default(),
            attempt,
            attempt_no,
            safe,
            Duration::ZERO,
            0.5,
        )
    }

    #[test]
    fn default_policy_matches_the_design() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts, 5);
        assert_eq!(p.base_delay, ms(500));
        assert_eq!(p.max_delay, Duration::from_secs(30));
        assert_eq!(p.throttle_budget, Duration::from_secs(900));
    }

    #[test]
    fn answers_go_to_the_manifest_rules() {
        for code in [200, 201, 204, 301, 400, 404, 408, 409, 422] {
            assert_eq!(run(&status(code), 1, false), Decision::Accept, "{code}");
            assert_eq!(run(&status(code), 5, true), Decision::Accept, "{code}");
        }
    }

    #[test]
    fn unauthorized_and_forbidden_stop_the_run() {
        assert_eq!(run(&status(401), 1, true), Decision::Unauthorized(401));
        assert_eq!(run(&status(403), 3, false), Decision::Unauthorized(403));
    }

    #[test]
    fn too_many_requests_throttles_without_counting_an_attempt() {
        // Even on what would be the last attempt, and even for an unsafe POST: a 429
        // means the request was refused before it did anything.
        let d = run(&status(429), 5, false);
        let Decision::Throttled { after } = d else {
            panic!("{d:?}")
        };
        assert!((ms(500)..=ms(1000)).contains(&after), "{after:?}");
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let attempt = Attempt::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        let d = run(&attempt, 1, true);
        let Decision::Throttled { after } = d else {
            panic!("{d:?}")
        };
        assert!(after >= Duration::from_secs(7) && after <= Duration::from_secs(7) + ms(250));
    }

    #[test]
    fn throttle_waits_grow_with_time_already_throttled() {
        let wait = |so_far: Duration| {
            let d = decide(&RetryPolicy::default(), &status(429), 1, true, so_far, 0.0);
            let Decision::Throttled { after } = d else {
                panic!("{d:?}")
            };
            after
        };
        assert_eq!(wait(Duration::ZERO), ms(500));
        assert_eq!(wait(ms(700)), ms(1000));
        assert_eq!(wait(Duration::from_secs(600)), Duration::from_secs(15));
    }

    #[test]
    fn throttle_budget_spent_gives_up() {
        let p = RetryPolicy::default();
        let d = decide(&p, &status(429), 1, true, p.throttle_budget, 0.5);
        let Decision::GiveUp { reason } = d else {
            panic!("{d:?}")
        };
        assert_eq!(
            reason,
            "still rate limited (429) after waiting 15m in total; the throttle budget is 15m"
        );
        let just_under = p.throttle_budget.saturating_sub(ms(1));
        assert!(matches!(
            decide(&p, &status(429), 1, true, just_under, 0.5),
            Decision::Throttled { .. }
        ));
    }

    #[test]
    fn server_errors_retry_then_accept_on_the_last_attempt() {
        for attempt_no in 1..5 {
            let d = run(&status(503), attempt_no, true);
            let Decision::Retry { after, reason } = d else {
                panic!("{d:?}")
            };
            assert_eq!(reason, "HTTP 503");
            assert_eq!(
                after,
                backoff(&RetryPolicy::default(), attempt_no, 0.5),
                "{attempt_no}"
            );
        }
        assert_eq!(run(&status(503), 5, true), Decision::Accept);
        assert_eq!(run(&status(500), 6, true), Decision::Accept);
    }

    #[test]
    fn server_error_retry_waits_at_least_retry_after() {
        let attempt = Attempt::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(4)),
        };
        let d = run(&attempt, 1, true);
        assert!(matches!(d, Decision::Retry { after, .. } if after == Duration::from_secs(4)));
        // …but no longer than the longest backoff.
        let attempt = Attempt::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(3600)),
        };
        let d = run(&attempt, 1, true);
        assert!(matches!(d, Decision::Retry { after, .. } if after == Duration::from_secs(30)));
    }

    #[test]
    fn server_error_on_an_unsafe_write_is_outcome_unknown_at_once() {
        let d = run(&status(502), 1, false);
        assert_eq!(
            d,
            Decision::OutcomeUnknown {
                reason: "outcome unknown — check before re-running: HTTP 502 on a write \
                         that is not safe to repeat"
                    .to_owned()
            }
        );
    }

    #[test]
    fn timeouts_and_resets_retry_then_give_up_when_safe() {
        for (attempt, what) in [
            (Attempt::Timeout, "timed out"),
            (Attempt::Connection, "connection failed"),
        ] {
            for attempt_no in 1..5 {
                let d = run(&attempt, attempt_no, true);
                assert!(
                    matches!(&d, Decision::Retry { reason, .. } if reason == what),
                    "{d:?}"
                );
            }
            assert_eq!(
                run(&attempt, 5, true),
                Decision::GiveUp {
                    reason: format!("no response after 5 attempts (last: {what})")
                }
            );
        }
    }

    #[test]
    fn timeouts_and_resets_on_an_unsafe_write_are_outcome_unknown_at_once() {
        for attempt in [Attempt::Timeout, Attempt::Connection] {
            let d = run(&attempt, 1, false);
            assert!(
                matches!(&d, Decision::OutcomeUnknown { reason } if reason.starts_with(OUTCOME_UNKNOWN)),
                "{d:?}"
            );
        }
    }

    #[test]
    fn zero_max_attempts_means_one() {
        let p = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(
            decide(&p, &status(500), 1, true, Duration::ZERO, 0.0),
            Decision::Accept
        );
    }

    #[test]
    fn backoff_doubles_from_the_base() {
        let p = RetryPolicy::default();
        // jitter 1.0 shows the whole step; 0.0 the fixed half.
        assert_eq!(backoff(&p, 1, 1.0), ms(500));
        assert_eq!(backoff(&p, 2, 1.0), ms(1000));
        assert_eq!(backoff(&p, 3, 1.0), ms(2000));
        assert_eq!(backoff(&p, 4, 1.0), ms(4000));
        assert_eq!(backoff(&p, 1, 0.0), ms(250));
        assert_eq!(backoff(&p, 0, 1.0), ms(500));
    }

    #[test]
    fn backoff_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 7, 1.0), Duration::from_secs(30));
        assert!((ms(29_900)..ms(30_000)).contains(&backoff(&p, 60, 0.999)));
        assert_eq!(backoff(&p, u32::MAX, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(&p, u32::MAX, 0.0), Duration::from_secs(15));
    }

    #[test]
    fn backoff_jitter_stays_within_the_step() {
        let p = RetryPolicy::default();
        for attempt_no in 1..12 {
            let step = backoff(&p, attempt_no, 1.0);
            for i in 0..100 {
                let j = f64::from(i) / 100.0;
                let d = backoff(&p, attempt_no, j);
                assert!(d >= step / 2 && d <= step, "{attempt_no} {j} {d:?}");
            }
        }
        // A broken random source cannot stretch or shrink the wait past the step.
        assert_eq!(backoff(&p, 1, 7.0), ms(500));
        assert_eq!(backoff(&p, 1, -3.0), ms(250));
        assert_eq!(backoff(&p, 1, f64::NAN), ms(250));
    }

    #[test]
    fn throttle_wait_without_retry_after_is_exponential_from_a_second() {
        assert_eq!(throttle_wait(None, 1, 1.0), ms(1000));
        assert_eq!(throttle_wait(None, 2, 1.0), ms(2000));
        assert_eq!(throttle_wait(None, 5, 1.0), ms(16_000));
        assert_eq!(throttle_wait(None, 6, 1.0), ms(30_000));
        assert_eq!(throttle_wait(None, 99, 0.0), ms(15_000));
        assert_eq!(throttle_wait(None, 0, 0.0), ms(500));
        for i in 0..100 {
            let d = throttle_wait(None, 1, f64::from(i) / 100.0);
            assert!((ms(500)..=ms(1000)).contains(&d));
        }
    }

    #[test]
    fn throttle_wait_uses_retry_after_plus_a_little() {
        let ra = Some(Duration::from_secs(2));
        assert_eq!(throttle_wait(ra, 9, 0.0), Duration::from_secs(2));
        assert_eq!(throttle_wait(ra, 9, 0.5), Duration::from_secs(2) + ms(125));
        assert_eq!(throttle_wait(Some(Duration::ZERO), 1, 0.0), Duration::ZERO);
        assert_eq!(
            throttle_wait(Some(Duration::MAX), 1, 0.0),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn throttle_streak_never_runs_ahead() {
        assert_eq!(throttle_streak(Duration::ZERO), 1);
        assert_eq!(throttle_streak(ms(499)), 1);
        assert_eq!(throttle_streak(ms(500)), 2);
        assert_eq!(throttle_streak(ms(1499)), 2);
        assert_eq!(throttle_streak(ms(1500)), 3);
        assert_eq!(throttle_streak(Duration::from_secs(3600)), 244);
        assert!(throttle_streak(Duration::MAX) > 1000);
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn retry_after_http_dates() {
        // 1994-11-06T08:49:37Z
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let now = date - Duration::from_secs(90);
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(text, now),
                Some(Duration::from_secs(90)),
                "{text}"
            );
        }
        let later = date + Duration::from_secs(5);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_none() {
        let now = SystemTime::UNIX_EPOCH;
        for text in [
            "",
            "  ",
            "-5",
            "1.5",
            "soon",
            "12s",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(text, now), None, "{text:?}");
        }
    }

    #[test]
    fn safe_to_retry_table() {
        let cases = [
            // method, client id, idempotent, safe
            ("GET", false, false, true),
            ("get", false, false, true),
            ("HEAD", false, false, true),
            ("PUT", false, false, true),
            ("DELETE", false, false, true),
            ("PATCH", false, false, true),
            ("POST", false, false, false),
            ("post", false, false, false),
            ("POST", true, false, true),
            ("POST", false, true, true),
            ("POST", true, true, true),
            ("BREW", false, false, false),
            ("BREW", false, true, true),
        ];
        for (method, id, idem, safe) in cases {
            assert_eq!(
                safe_to_retry(method, id, idem),
                safe,
                "{method} {id} {idem}"
            );
        }
    }
}
