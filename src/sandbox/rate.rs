//! The organization-wide rate limit: a sliding one-second window for every request, and
//! the stricter reports class (a sliding one-minute window plus a concurrency cap).
//!
//! A sliding window means no second-long interval ever admits more than the limit, so a
//! saturating client gets exactly `limit × seconds` successes. Rejected requests do not
//! consume budget. This module only counts; `mod.rs` turns a refusal into a 429.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The `Ratelimit-Limit-Second` value announced when the limit is off.
pub const UNLIMITED_ANNOUNCED: u32 = 10_000;

/// Admissions in a sliding window.
#[derive(Debug)]
pub struct Window {
    limit: u32,
    span: Duration,
    admitted: Mutex<VecDeque<Instant>>,
}

impl Window {
    /// A window admitting at most `limit` requests in any `span`.
    pub fn new(limit: u32, span: Duration) -> Self {
        Window {
            limit,
            span,
            admitted: Mutex::new(VecDeque::new()),
        }
    }

    /// The configured limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The budget left in the window at `now`, without admitting anything.
    pub fn remaining(&self, now: Instant) -> u32 {
        let admitted = self.admitted.lock().expect("rate window lock");
        let used = admitted
            .iter()
            .filter(|&&t| now.duration_since(t) < self.span)
            .count();
        self.limit
            .saturating_sub(u32::try_from(used).unwrap_or(u32::MAX))
    }

    /// Tries to admit one request now; returns the budget left in the window either way.
    pub fn try_admit(&self, now: Instant) -> (bool, u32) {
        let mut admitted = self.admitted.lock().expect("rate window lock");
        while admitted
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.span)
        {
            admitted.pop_front();
        }
        let used = u32::try_from(admitted.len()).unwrap_or(u32::MAX);
        if used < self.limit {
            admitted.push_back(now);
            (true, self.limit - used - 1)
        } else {
            (false, 0)
        }
    }
}

/// The reports class: requests per minute plus simultaneous requests across the org.
#[derive(Debug)]
pub struct ReportsLimit {
    window: Window,
    max_concurrent: u32,
    in_flight: Arc<Mutex<u32>>,
}

/// Holds one of the reports concurrency slots until dropped.
#[derive(Debug)]
pub struct ReportSlot {
    in_flight: Arc<Mutex<u32>>,
}

impl Drop for ReportSlot {
    fn drop(&mut self) {
        let mut n = self.in_flight.lock().expect("reports lock");
        *n = n.saturating_sub(1);
    }
}

impl ReportsLimit {
    /// `per_minute` requests in any minute, at most `max_concurrent` at once.
    pub fn new(per_minute: u32, max_concurrent: u32) -> Self {
        ReportsLimit {
            window: Window::new(per_minute, Duration::from_secs(60)),
            max_concurrent,
            in_flight: Arc::new(Mutex::new(0)),
        }
    }

    /// Takes a slot, or says which limit refused it.
    pub fn try_acquire(&self, now: Instant) -> Result<ReportSlot, &'static str> {
        let mut n = self.in_flight.lock().expect("reports lock");
        if *n >= self.max_concurrent {
            return Err("reports allow 2 concurrent requests per organization");
        }
        if !self.window.try_admit(now).0 {
            return Err("reports allow 10 requests per minute per organization");
        }
        *n += 1;
        Ok(ReportSlot {
            in_flight: Arc::clone(&self.in_flight),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_admits_limit_then_refuses_until_it_slides() {
        let w = Window::new(3, Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(w.try_admit(t0), (true, 2));
        assert_eq!(w.try_admit(t0), (true, 1));
        assert_eq!(w.try_admit(t0), (true, 0));
        assert_eq!(w.try_admit(t0 + Duration::from_millis(999)), (false, 0));
        assert_eq!(w.try_admit(t0 + Duration::from_secs(1)), (true, 2));
    }

    #[test]
    fn reports_cap_concurrency() {
        let r = ReportsLimit::new(10, 2);
        let now = Instant::now();
        let a = r.try_acquire(now).unwrap();
        let _b = r.try_acquire(now).unwrap();
        assert!(r.try_acquire(now).is_err());
        drop(a);
        assert!(r.try_acquire(now).is_ok());
    }
}
