//! Seeded, reproducible fault injection: added latency, 5xx answers, connection resets,
//! responses slower than a client's timeout, and scripted 429 bursts.
//!
//! Every decision is a pure function of the seed and the request's arrival number (its
//! position among `/api/v1` requests), so the same seed and the same request sequence give
//! the same faults. 5xx and resets happen either *before* the request touches the org
//! (nothing was written) or *after* it was applied (a lost response, like a real network
//! failure after commit): each item of the spec says which (`:before`, `:after`) or lets
//! the seed pick per request (`:either`, the default), so a client's "no duplicates" logic
//! is really exercised. The module decides; `mod.rs` carries the decision out.
//!
//! Grammar of `--faults` (items separated by commas, all optional):
//!
//! ```text
//! 5xx=P[:WHEN]          share P of requests answered 500, 502 or 503 (evenly)
//! 500=P[:WHEN]          likewise for one status (also 502=, 503=)
//! reset=P[:WHEN]        share P of connections dropped without any response
//! slow=P:DURATION       share P applied, then answered only after DURATION (e.g. 30s)
//! burst429=N@START      N consecutive 429s, starting at request number START (1-based)
//!                       or with the first request at/after START as a duration (3s, 500ms)
//! on=all|reads|writes   which requests faults hit (latency always applies to all)
//! WHEN = before | after | either;   P = 0.05 or 5%
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Whether a 5xx or reset happens before or after the request is applied to the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Nothing is applied; the client can safely retry.
    Before,
    /// The change is applied, then the response is lost.
    After,
    /// The seed picks before or after for each request (default).
    Either,
}

/// Which requests faults may hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every request.
    All,
    /// Only GETs.
    Reads,
    /// Only POST, PUT, PATCH and DELETE.
    Writes,
}

/// Where a scripted 429 burst starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstStart {
    /// At this arrival number (1-based).
    Request(u64),
    /// With the first request arriving this long after the sandbox started.
    After(Duration),
}

/// A scripted run of consecutive 429 answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// How many requests in a row get 429.
    pub count: u64,
    /// Where the run starts.
    pub start: BurstStart,
}

/// A parsed `--faults` specification (see the module docs for the grammar).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    /// `(status, share, timing)` of injected server errors.
    pub server_errors: Vec<(u16, f64, Timing)>,
    /// Share of connections reset, and when.
    pub reset: Option<(f64, Timing)>,
    /// Share of slow responses and how slow.
    pub slow: Option<(f64, Duration)>,
    /// Scripted 429 bursts.
    pub bursts: Vec<Burst>,
    /// Which requests faults hit (`None` = all).
    pub scope: Option<Scope>,
}

/// Added latency: a fixed delay or a uniform range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Shortest delay.
    pub min: Duration,
    /// Longest delay (equal to `min` for a fixed delay).
    pub max: Duration,
}

/// A `--faults` or `--latency` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpecError {
    /// The offending item.
    pub item: String,
    /// What was expected.
    pub reason: String,
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.item, self.reason)
    }
}

impl std::error::Error for FaultSpecError {}

fn error(item: &str, reason: impl Into<String>) -> FaultSpecError {
    FaultSpecError {
        item: item.to_owned(),
        reason: reason.into(),
    }
}

/// Parses `0.05` or `5%` into a share between 0 and 1.
fn parse_share(item: &str, text: &str) -> Result<f64, FaultSpecError> {
    let value = match text.strip_suffix('%') {
        Some(pct) => pct.parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| error(item, format!("`{text}` is not a share (use 0.05 or 5%)")))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(error(
            item,
            format!("share `{text}` must lie between 0 and 1"),
        ))
    }
}

/// Parses `30s`, `500ms` or `2m`.
pub fn parse_duration(item: &str, text: &str) -> Result<Duration, FaultSpecError> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let n: u64 = number.parse().map_err(|_| {
        error(
            item,
            format!("`{text}` is not a duration (use 500ms, 30s, 2m)"),
        )
    })?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(error(item, format!("`{text}` needs a unit: ms, s or m"))),
    }
}

fn parse_timing(item: &str, text: Option<&str>) -> Result<Timing, FaultSpecError> {
    match text {
        None | Some("either") => Ok(Timing::Either),
        Some("before") => Ok(Timing::Before),
        Some("after") => Ok(Timing::After),
        Some(other) => Err(error(
            item,
            format!("`{other}` must be before, after or either"),
        )),
    }
}

impl FaultSpec {
    /// Parses a spec string; the empty string means no faults.
    pub fn parse(text: &str) -> Result<Self, FaultSpecError> {
        let mut spec = FaultSpec::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| error(item, "expected KEY=VALUE"))?;
            let (head, tail) = match value.split_once(':') {
                Some((h, t)) => (h, Some(t)),
                None => (value, None),
            };
            match key {
                "5xx" => {
                    let share = parse_share(item, head)? / 3.0;
                    let timing = parse_timing(item, tail)?;
                    for status in [500, 502, 503] {
                        spec.server_errors.push((status, share, timing));
                    }
                }
                "500" | "502" | "503" => {
                    let status = key.parse().expect("matched digits");
                    let timing = parse_timing(item, tail)?;
                    spec.server_errors
                        .push((status, parse_share(item, head)?, timing));
                }
                "reset" => {
                    spec.reset = Some((parse_share(item, head)?, parse_timing(item, tail)?));
                }
                "slow" => {
                    let tail = tail.ok_or_else(|| error(item, "expected slow=SHARE:DURATION"))?;
                    spec.slow = Some((parse_share(item, head)?, parse_duration(item, tail)?));
                }
                "burst429" => spec.bursts.push(parse_burst(item, value)?),
                "on" => {
                    spec.scope = Some(match value {
                        "all" => Scope::All,
                        "reads" => Scope::Reads,
                        "writes" => Scope::Writes,
                        _ => return Err(error(item, "expected on=all, on=reads or on=writes")),
                    });
                }
                _ => {
                    return Err(error(
                        item,
                        format!(
                            "unknown fault `{key}` (expected 5xx, 500, 502, 503, reset, slow, burst429 or on)"
                        ),
                    ));
                }
            }
        }
        let total: f64 = spec.server_errors.iter().map(|(_, p, _)| p).sum::<f64>()
            + spec.reset.map_or(0.0, |(p, _)| p);
        if total > 1.0 + 1e-9 {
            return Err(error(text, "5xx and reset shares add up to more than 1"));
        }
        Ok(spec)
    }

    /// Whether the spec injects nothing at all.
    pub fn is_empty(&self) -> bool {
        self.server_errors.is_empty()
            && self.reset.is_none()
            && self.slow.is_none()
            && self.bursts.is_empty()
    }
}

fn parse_burst(item: &str, value: &str) -> Result<Burst, FaultSpecError> {
    let (count, start) = value
        .split_once('@')
        .ok_or_else(|| error(item, "expected burst429=COUNT@START (e.g. 20@3s or 20@100)"))?;
    let count = count
        .parse()
        .map_err(|_| error(item, format!("`{count}` is not a request count")))?;
    let start = if start.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = start
            .parse()
            .map_err(|_| error(item, format!("`{start}` is not a request number")))?;
        if n == 0 {
            return Err(error(item, "request numbers start at 1"));
        }
        BurstStart::Request(n)
    } else {
        BurstStart::After(parse_duration(item, start)?)
    };
    Ok(Burst { count, start })
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultSpec::parse(s)
    }
}

impl Latency {
    /// Parses `100` (fixed, milliseconds) or `50-150` (uniform range); `ms` suffixes allowed.
    pub fn parse(text: &str) -> Result<Self, FaultSpecError> {
        let ms = |part: &str| -> Result<Duration, FaultSpecError> {
            let digits = part.trim().trim_end_matches("ms");
            digits
                .parse()
                .map(Duration::from_millis)
                .map_err(|_| error(text, "latency is milliseconds: 100 or 50-150"))
        };
        let (min, max) = match text.split_once('-') {
            Some((lo, hi)) => (ms(lo)?, ms(hi)?),
            None => (ms(text)?, ms(text)?),
        };
        if min > max {
            return Err(error(
                text,
                "the range's lower bound is above its upper bound",
            ));
        }
        Ok(Latency { min, max })
    }
}

impl FromStr for Latency {
    type Err = FaultSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Latency::parse(s)
    }
}

/// What to do to one request, decided before it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429 (scripted burst) without touching the org.
    Burst429,
    /// Answer this 5xx; `after` = apply the request first and drop its real response.
    Status {
        /// The 5xx status.
        status: u16,
        /// Whether the request is applied before the status replaces its response.
        after: bool,
    },
    /// Drop the connection; `after` = apply the request first.
    Reset {
        /// Whether the request is applied before the connection is dropped.
        after: bool,
    },
}

/// The full decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// Delay before handling.
    pub latency: Duration,
    /// Extra delay before answering (a "slow" response).
    pub slow: Option<Duration>,
    /// The injected failure, if any.
    pub fault: Option<Fault>,
}

/// The spec plus the little state time-based bursts need.
#[derive(Debug)]
pub struct FaultPlan {
    spec: FaultSpec,
    latency: Option<Latency>,
    seed: u64,
    burst_used: Vec<AtomicU64>,
}

impl FaultPlan {
    /// A plan for the given spec, latency and seed.
    pub fn new(spec: FaultSpec, latency: Option<Latency>, seed: u64) -> Self {
        let burst_used = spec.bursts.iter().map(|_| AtomicU64::new(0)).collect();
        FaultPlan {
            spec,
            latency,
            seed,
            burst_used,
        }
    }

    /// Decides the fate of request number `n` (1-based), arriving `elapsed` after start.
    pub fn decide(&self, n: u64, elapsed: Duration, is_write: bool) -> Decision {
        let mut draws = Draws::new(self.seed, n);
        let mut decision = Decision {
            latency: self
                .latency
                .map_or(Duration::ZERO, |l| draws.between(l.min, l.max)),
            ..Decision::default()
        };
        let in_scope = match self.spec.scope.unwrap_or(Scope::All) {
            Scope::All => true,
            Scope::Reads => !is_write,
            Scope::Writes => is_write,
        };
        if !in_scope {
            return decision;
        }
        if self.in_burst(n, elapsed) {
            decision.fault = Some(Fault::Burst429);
            return decision;
        }
        let (pick, when, slow) = (draws.next(), draws.next(), draws.next());
        let after = |timing: Timing| match timing {
            Timing::Before => false,
            Timing::After => true,
            Timing::Either => when < 0.5,
        };
        let mut edge = 0.0;
        if let Some((share, timing)) = self.spec.reset {
            edge += share;
            if pick < edge {
                decision.fault = Some(Fault::Reset {
                    after: after(timing),
                });
            }
        }
        for &(status, share, timing) in &self.spec.server_errors {
            edge += share;
            if decision.fault.is_none() && pick < edge {
                decision.fault = Some(Fault::Status {
                    status,
                    after: after(timing),
                });
            }
        }
        if let Some((share, delay)) = self.spec.slow
            && decision.fault.is_none()
            && slow < share
        {
            decision.slow = Some(delay);
        }
        decision
    }

    fn in_burst(&self, n: u64, elapsed: Duration) -> bool {
        let mut hit = false;
        for (burst, used) in self.spec.bursts.iter().zip(&self.burst_used) {
            match burst.start {
                BurstStart::Request(start) => hit |= n >= start && n < start + burst.count,
                BurstStart::After(at) => {
                    if !hit && elapsed >= at {
                        let taken = used.fetch_add(1, Ordering::Relaxed);
                        hit = taken < burst.count;
                    }
                }
            }
        }
        hit
    }
}

/// A tiny `SplitMix64` stream keyed by (seed, request number): stable across versions.
struct Draws(u64);

impl Draws {
    fn new(seed: u64, n: u64) -> Self {
        Draws(mix(seed ^ mix(n)))
    }

    /// A uniform number in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        (mix(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, min: Duration, max: Duration) -> Duration {
        let span = max.saturating_sub(min);
        min + span.mul_f64(self.next())
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_full_grammar() {
        let spec = FaultSpec::parse(
            "5xx=0.3:after, reset=5%:before,slow=0.01:30s,burst429=20@3s,burst429=5@100,on=writes",
        )
        .unwrap();
        assert_eq!(spec.server_errors.len(), 3);
        assert!(
            spec.server_errors
                .iter()
                .all(|&(_, p, t)| (p - 0.1).abs() < 1e-9 && t == Timing::After)
        );
        assert_eq!(spec.reset, Some((0.05, Timing::Before)));
        assert_eq!(spec.slow, Some((0.01, Duration::from_secs(30))));
        assert_eq!(
            spec.bursts[0],
            Burst {
                count: 20,
                start: BurstStart::After(Duration::from_secs(3))
            }
        );
        assert_eq!(
            spec.bursts[1],
            Burst {
                count: 5,
                start: BurstStart::Request(100)
            }
        );
        assert_eq!(spec.scope, Some(Scope::Writes));
        assert!(FaultSpec::parse("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_item_and_the_fix() {
        let cases = [
            ("5xx", "expected KEY=VALUE"),
            ("5xx=2", "must lie between 0 and 1"),
            ("reset=lots", "is not a share"),
            ("slow=0.1", "expected slow=SHARE:DURATION"),
            ("slow=0.1:30", "needs a unit"),
            ("burst429=20", "expected burst429=COUNT@START"),
            ("burst429=20@0", "start at 1"),
            ("500=0.1:later", "before, after or either"),
            ("teapot=0.1", "unknown fault `teapot`"),
            ("on=some", "expected on=all"),
            ("5xx=0.8,reset=0.5", "add up to more than 1"),
        ];
        for (text, wanted) in cases {
            let err = FaultSpec::parse(text).unwrap_err().to_string();
            assert!(err.contains(wanted), "{text}: {err}");
        }
    }

    #[test]
    fn latency_parses_fixed_and_ranges() {
        assert_eq!(
            Latency::parse("100").unwrap().max,
            Duration::from_millis(100)
        );
        let range = Latency::parse("50-150ms").unwrap();
        assert_eq!(
            (range.min, range.max),
            (Duration::from_millis(50), Duration::from_millis(150))
        );
        assert!(Latency::parse("150-50").is_err());
        assert!(Latency::parse("fast").is_err());
    }

    #[test]
    fn decisions_are_reproducible_and_match_shares() {
        let spec = FaultSpec::parse("5xx=0.2,reset=0.1").unwrap();
        let a = FaultPlan::new(spec.clone(), None, 7);
        let b = FaultPlan::new(spec, None, 7);
        let run = |p: &FaultPlan| {
            (1..=2000)
                .map(|n| p.decide(n, Duration::ZERO, true))
                .collect::<Vec<_>>()
        };
        let (ra, rb) = (run(&a), run(&b));
        assert_eq!(ra, rb);
        let resets = ra
            .iter()
            .filter(|d| matches!(d.fault, Some(Fault::Reset { .. })))
            .count();
        let errors = ra
            .iter()
            .filter(|d| matches!(d.fault, Some(Fault::Status { .. })))
            .count();
        let after = ra
            .iter()
            .filter(|d| matches!(d.fault, Some(Fault::Status { after: true, .. })))
            .count();
        assert!((150..250).contains(&resets), "{resets}");
        assert!((330..470).contains(&errors), "{errors}");
        assert!(
            after > errors / 4 && after < errors * 3 / 4,
            "{after} of {errors}"
        );
    }

    #[test]
    fn bursts_by_request_number_and_scope() {
        let plan = FaultPlan::new(FaultSpec::parse("burst429=3@2,on=writes").unwrap(), None, 1);
        let hits: Vec<bool> = (1..=6)
            .map(|n| plan.decide(n, Duration::ZERO, true).fault == Some(Fault::Burst429))
            .collect();
        assert_eq!(hits, [false, true, true, true, false, false]);
        assert_eq!(plan.decide(3, Duration::ZERO, false).fault, None);
    }

    #[test]
    fn timed_bursts_hit_the_first_requests_after_the_offset() {
        let plan = FaultPlan::new(FaultSpec::parse("burst429=2@1s").unwrap(), None, 1);
        assert_eq!(plan.decide(1, Duration::from_millis(10), false).fault, None);
        let late = Duration::from_secs(2);
        assert_eq!(plan.decide(2, late, false).fault, Some(Fault::Burst429));
        assert_eq!(plan.decide(3, late, false).fault, Some(Fault::Burst429));
        assert_eq!(plan.decide(4, late, false).fault, None);
    }

    #[test]
    fn latency_stays_in_range() {
        let plan = FaultPlan::new(
            FaultSpec::default(),
            Some(Latency::parse("50-150").unwrap()),
            3,
        );
        for n in 1..200 {
            let d = plan.decide(n, Duration::ZERO, false).latency;
            assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(150));
        }
    }
}
