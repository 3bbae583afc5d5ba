//! How fast to send: reading Gladly's `Ratelimit-Limit-Second` and
//! `Ratelimit-Remaining-Second` headers, choosing the rate a run paces itself at, and
//! deciding when an exhausted budget should hold every worker. It only computes; the
//! engine's limiter applies the answers and owns the clock.

use std::time::{Duration, SystemTime};

/// Gladly's documented default limit, in requests per second, for every method.
pub(crate) const DEFAULT_RATE: f64 = 10.0;

/// The slowest rate a run accepts (one request an hour); slower values are raised to it.
pub(crate) const MIN_RATE: f64 = 1.0 / 3600.0;

/// The fastest rate a run accepts; faster values are lowered to it.
pub(crate) const MAX_RATE: f64 = 100_000.0;

/// The share of the rate actually paced at.
///
/// Requests spaced exactly `1/rate` apart leave no slack: a request that reaches the
/// server a millisecond early (scheduling, network jitter) makes 11 in some second at
/// 10/s, and that is a 429 and a pause for everyone. Pacing at 99% keeps 10 ms of slack
/// in every second for 1% of throughput.
pub(crate) const HEADROOM: f64 = 0.99;

/// What the rate-limit headers of one response said; `None` when absent or unreadable.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct RateHeaders {
    /// `Ratelimit-Limit-Second`: the org's current per-second limit.
    pub limit: Option<u32>,
    /// `Ratelimit-Remaining-Second`: requests left in the current second.
    pub remaining: Option<u32>,
}

/// Reads the two header values; surrounding spaces are ignored and anything that is not
/// a whole non-negative number is `None`.
pub(crate) fn parse_rate_headers(limit: Option<&str>, remaining: Option<&str>) -> RateHeaders {
    let read = |value: Option<&str>| value.and_then(|v| v.trim().parse::<u32>().ok());
    RateHeaders {
        limit: read(limit),
        remaining: read(remaining),
    }
}

/// How long to hold new requests after a response with these headers: until the next
/// wall-clock second when `remaining` is 0, else `None`.
pub(crate) fn hold_after(headers: &RateHeaders, now: SystemTime) -> Option<Duration> {
    if headers.remaining != Some(0) {
        return None;
    }
    let into_second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Some(Duration::from_secs(1).saturating_sub(Duration::from_nanos(u64::from(into_second))))
}

/// Like [`hold_after`], but no hold when a run pacing at `our_rate` could have used up
/// the whole budget by itself, which is what the limiter applies.
///
/// A run that saturates the limit sees `remaining` 0 on most responses by its own
/// doing (against a sliding window, nearly every one), and its pacing already keeps it
/// within the limit; holding until the next second each time would halve its throughput.
/// When our own requests cannot fill a second (at most `our_rate + 1` of them fit in
/// one), a 0 means another client of the org is spending the budget, and then we hold.
/// With no limit header we cannot tell, and hold.
pub(crate) fn hold_after_paced(
    headers: &RateHeaders,
    our_rate: f64,
    now: SystemTime,
) -> Option<Duration> {
    match headers.limit {
        Some(limit) if our_rate + 1.0 >= f64::from(limit) => None,
        _ => hold_after(headers, now),
    }
}

/// The time between two requests at `rate`, with [`HEADROOM`].
pub(crate) fn pacing_period(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / (usable_rate(rate) * HEADROOM))
}

/// How early, against the even schedule, a request may go out; the lesser of 2 ms and
/// half a period.
///
/// A waiting worker never wakes exactly on time (timer and scheduler add 0.1–0.5 ms),
/// and with a strict schedule every late wake-up is lost for good: about 5% of the rate
/// at 200/s. Letting each request go up to this much before its slot lets the next wake
/// up early enough. Any one-second window then holds at most
/// `floor((1 s + tolerance) / period) + 1` requests, still within the limit while the
/// tolerance stays under the ~10 ms that [`HEADROOM`] leaves in each second.
pub(crate) fn pacing_tolerance(rate: f64) -> Duration {
    (pacing_period(rate) / 2).min(Duration::from_millis(2))
}

/// `rate` within [`MIN_RATE`]..=[`MAX_RATE`], or [`DEFAULT_RATE`] when it is not a
/// positive number.
pub(crate) fn usable_rate(rate: f64) -> f64 {
    if rate.is_finite() && rate > 0.0 {
        rate.clamp(MIN_RATE, MAX_RATE)
    } else {
        DEFAULT_RATE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    fn headers(limit: Option<u32>, remaining: Option<u32>) -> RateHeaders {
        RateHeaders { limit, remaining }
    }

    #[test]
    fn parses_plain_and_spaced_values() {
        assert_eq!(
            parse_rate_headers(Some("10"), Some("3")),
            headers(Some(10), Some(3))
        );
        assert_eq!(
            parse_rate_headers(Some(" 200 "), Some("\t0")),
            headers(Some(200), Some(0))
        );
        assert_eq!(parse_rate_headers(None, None), RateHeaders::default());
    }

    #[test]
    fn garbage_is_none() {
        for bad in ["", " ", "ten", "-1", "1.5", "10/s", "4294967296", "1 0"] {
            assert_eq!(
                parse_rate_headers(Some(bad), Some(bad)),
                RateHeaders::default(),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_rate_headers(Some("x"), Some("4")),
            headers(None, Some(4))
        );
    }

    #[test]
    fn hold_until_the_next_second_when_nothing_remains() {
        let h = headers(Some(10), Some(0));
        assert_eq!(hold_after(&h, at(100, 0)), Some(Duration::from_secs(1)));
        assert_eq!(hold_after(&h, at(100, 1)), Some(Duration::from_millis(999)));
        assert_eq!(
            hold_after(&h, at(100, 250)),
            Some(Duration::from_millis(750))
        );
        assert_eq!(hold_after(&h, at(100, 999)), Some(Duration::from_millis(1)));
        let nearly = at(100, 999) + Duration::from_nanos(999_999);
        assert_eq!(hold_after(&h, nearly), Some(Duration::from_nanos(1)));
        // Without a limit header the remaining count still decides.
        assert_eq!(
            hold_after(&headers(None, Some(0)), at(7, 600)),
            Some(Duration::from_millis(400))
        );
    }

    #[test]
    fn no_hold_while_budget_remains_or_unknown() {
        assert_eq!(hold_after(&headers(Some(10), Some(1)), at(1, 500)), None);
        assert_eq!(hold_after(&headers(Some(10), None), at(1, 500)), None);
        assert_eq!(hold_after(&RateHeaders::default(), at(1, 500)), None);
    }

    #[test]
    fn paced_hold_only_when_others_spend_the_budget() {
        let now = at(5, 400);
        let exhausted = headers(Some(10), Some(0));
        // We could have filled the second ourselves: our pacing already keeps us in.
        assert_eq!(hold_after_paced(&exhausted, 10.0, now), None);
        assert_eq!(hold_after_paced(&exhausted, 9.0, now), None);
        // We could not have: someone else is using the org's budget.
        assert_eq!(
            hold_after_paced(&exhausted, 8.0, now),
            Some(Duration::from_millis(600))
        );
        assert_eq!(
            hold_after_paced(&headers(None, Some(0)), 10.0, now),
            Some(Duration::from_millis(600))
        );
        assert_eq!(
            hold_after_paced(&headers(Some(10), Some(2)), 1.0, now),
            None
        );
    }

    #[test]
    fn usable_rate_survives_odd_configuration() {
        assert!((usable_rate(0.0) - DEFAULT_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(-3.0) - DEFAULT_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(f64::NAN) - DEFAULT_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(f64::INFINITY) - DEFAULT_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(1e12) - MAX_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(1e-9) - MIN_RATE).abs() < f64::EPSILON);
        assert!((usable_rate(2.5) - 2.5).abs() < f64::EPSILON);
    }

    #[test]
    fn pacing_leaves_one_percent_of_slack() {
        let period = pacing_period(10.0);
        assert!(period > Duration::from_millis(101) && period < Duration::from_micros(101_020));
        // Ten gaps at 10/s add up to more than a second: an 11th never lands inside it.
        assert!(period * 10 > Duration::from_millis(1010));
        assert!(pacing_period(200.0) * 200 > Duration::from_millis(1010));
        assert_eq!(pacing_period(f64::NAN), pacing_period(DEFAULT_RATE));
    }

    #[test]
    fn pacing_tolerance_stays_inside_the_headroom() {
        assert_eq!(pacing_tolerance(10.0), Duration::from_millis(2));
        assert_eq!(pacing_tolerance(200.0), Duration::from_millis(2));
        assert_eq!(pacing_tolerance(1000.0), pacing_period(1000.0) / 2);
        for rate in [1.0, 10.0, 50.0, 200.0, 999.0, 5000.0] {
            let (period, tolerance) = (pacing_period(rate), pacing_tolerance(rate));
            let most = (Duration::from_secs(1) + tolerance).as_nanos() / period.as_nanos() + 1;
            assert!(
                f64::from(u32::try_from(most).unwrap()) <= rate,
                "{rate}: {most}"
            );
        }
    }
}
