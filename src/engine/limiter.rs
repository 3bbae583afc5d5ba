//! The one rate limiter of a run, shared by every worker (`Arc<Limiter>`). Before each
//! request a worker calls [`Limiter::acquire`] and keeps the [`Permit`] while the request
//! is in flight. The limiter spaces requests evenly at the run's rate (a governor bucket
//! holding one request, so no one-second window ever sees more than the rate), adds the
//! reports class's per-minute spacing and concurrency cap, lowers the rate when the
//! server advertises less, and holds everyone during a 429 pause or when another client
//! has spent the org's second. What the headers mean, how much headroom to keep and how
//! long to pause are decided in [`crate::policy`]; this file only waits.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::catalog::RateClass;
use crate::policy::rate::{
    RateHeaders, hold_after_paced, pacing_period, pacing_tolerance, usable_rate,
};

/// The run's shared gate in front of every request.
#[derive(Debug)]
pub(super) struct Limiter {
    /// The per-second pacing every request passes, with its nominal rate. Replaced
    /// (never mutated) when the server advertises a lower limit.
    per_second: RwLock<(f64, Arc<DefaultDirectRateLimiter>)>,
    /// No request may start before this instant (429 pauses, exhausted seconds).
    paused_until: Mutex<Option<Instant>>,
    /// Waiters for the per-second token, first come first served: tokio's mutex is
    /// fair, so one worker polls the bucket at a time and nobody is starved.
    queue: tokio::sync::Mutex<()>,
    /// The reports class's own limits.
    reports: ClassGate,
}

/// Held while a request is in flight. For the reports class it holds one of the
/// concurrency slots, freed when the permit is dropped.
#[derive(Debug)]
#[must_use = "a reports slot is released as soon as the permit is dropped"]
pub(super) struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

/// A rate class's limits on top of the shared per-second pacing.
#[derive(Debug)]
struct ClassGate {
    per_minute: Option<DefaultDirectRateLimiter>,
    slots: Option<Arc<Semaphore>>,
}

impl ClassGate {
    /// The catalog's limits for `class`.
    fn of(class: RateClass) -> ClassGate {
        ClassGate::new(class.per_minute(), class.max_concurrent())
    }

    fn new(per_minute: Option<u32>, max_concurrent: Option<u32>) -> ClassGate {
        ClassGate {
            per_minute: per_minute.map(|n| bucket(f64::from(n) / 60.0)),
            slots: max_concurrent
                .map(|n| Arc::new(Semaphore::new(usize::try_from(n.max(1)).unwrap_or(1)))),
        }
    }
}

/// How many governor cells one request weighs in the per-second bucket.
///
/// Governor counts burst in whole cells. Weighing a request as many small cells lets the
/// bucket hold one request plus a fraction of one (the pacing tolerance) rather than two.
const CELLS: NonZeroU32 = NonZeroU32::new(1000).expect("non-zero");

/// The per-second bucket's quota at `rate`: one request every
/// [`pacing_period`], each allowed to go out up to [`pacing_tolerance`] early.
fn pacing_quota(rate: f64) -> Quota {
    let period = pacing_period(rate).as_nanos();
    let cell = period.div_ceil(u128::from(CELLS.get())).max(1);
    let spare = pacing_tolerance(rate).as_nanos() / cell;
    let burst = CELLS.saturating_add(u32::try_from(spare).unwrap_or(0));
    let cell = Duration::from_nanos(u64::try_from(cell).unwrap_or(u64::MAX));
    Quota::with_period(cell)
        .expect("the cell is at least a nanosecond")
        .allow_burst(burst)
}

/// The per-second bucket at `rate`.
fn pacer(rate: f64) -> DefaultDirectRateLimiter {
    RateLimiter::direct(pacing_quota(rate))
}

/// A plain burst-1 bucket at `per_second`, with [`crate::policy::rate::HEADROOM`].
fn bucket(per_second: f64) -> DefaultDirectRateLimiter {
    let quota = Quota::with_period(pacing_period(per_second)).expect("the period is positive");
    RateLimiter::direct(quota)
}

impl Limiter {
    /// A limiter pacing requests evenly at `per_second` (less the 1%
    /// [`crate::policy::rate::HEADROOM`]; a request may go out up to
    /// [`pacing_tolerance`] early, so a late wake-up is not lost), with the catalog's
    /// limits for the reports class. A rate that is not a positive number means 10/s.
    pub(super) fn new(per_second: f64) -> Limiter {
        Limiter::with_reports(per_second, ClassGate::of(RateClass::Reports))
    }

    fn with_reports(per_second: f64, reports: ClassGate) -> Limiter {
        let rate = usable_rate(per_second);
        Limiter {
            per_second: RwLock::new((rate, Arc::new(pacer(rate)))),
            paused_until: Mutex::new(None),
            queue: tokio::sync::Mutex::new(()),
            reports,
        }
    }

    /// Waits until a request of `class` may be sent: any pause to end, then the
    /// per-second token; for the reports class first a concurrency slot and a per-minute
    /// token too. Hold the permit until the response (or the failure) is in.
    pub(super) async fn acquire(&self, class: RateClass) -> Permit {
        let gate = match class {
            RateClass::Reports => Some(&self.reports),
            RateClass::Default => None,
        };
        // The slot comes first so that a worker waiting for one does not use up
        // per-minute tokens it cannot spend.
        let slot = match gate.and_then(|g| g.slots.clone()) {
            Some(slots) => Some(
                slots
                    .acquire_owned()
                    .await
                    .expect("the limiter never closes its semaphores"),
            ),
            None => None,
        };
        if let Some(per_minute) = gate.and_then(|g| g.per_minute.as_ref()) {
            self.sleep_out_pause().await;
            per_minute.until_ready().await;
        }
        self.per_second_token().await;
        Permit { _slot: slot }
    }

    async fn per_second_token(&self) {
        let _turn = self.queue.lock().await;
        loop {
            self.sleep_out_pause().await;
            let pacer = self.pacer();
            pacer
                .until_n_ready(CELLS)
                .await
                .expect("the burst holds a whole request");
            // A pause that began while we waited wins: wait it out and take a fresh
            // token, so workers do not all fire the moment it ends.
            if self.paused_for().is_none() {
                return;
            }
        }
    }

    async fn sleep_out_pause(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Takes in the rate-limit headers of a response.
    ///
    /// A limit lower than the current rate becomes the rate (a higher one never raises
    /// it). `remaining` 0 holds everyone until the next wall-clock second, unless this
    /// run's own pacing could have spent the whole second (see
    /// [`crate::policy::rate::hold_after_paced`]).
    pub(super) fn observe(&self, headers: &RateHeaders) {
        self.observe_at(headers, SystemTime::now());
    }

    /// [`Limiter::observe`] with the wall clock given, for tests.
    pub(super) fn observe_at(&self, headers: &RateHeaders, now: SystemTime) {
        if let Some(limit) = headers.limit.filter(|&l| l > 0) {
            self.lower_rate(f64::from(limit));
        }
        if let Some(hold) = hold_after_paced(headers, self.rate(), now) {
            self.pause(hold);
        }
    }

    /// Lowers the per-second rate to `rate` if that is lower than now; never raises it.
    pub(super) fn lower_rate(&self, rate: f64) {
        let rate = usable_rate(rate);
        let mut current = self
            .per_second
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if rate < current.0 {
            let fresh = pacer(rate);
            // A new bucket starts full; spend that request so the next one still
            // waits a period instead of going out right behind the last one.
            let _ = fresh.check_n(CELLS);
            *current = (rate, Arc::new(fresh));
        }
    }

    /// Holds every `acquire` until `wait` from now. Extends a pause already running,
    /// never shortens it.
    pub(super) fn pause(&self, wait: Duration) {
        let Some(until) = Instant::now().checked_add(wait) else {
            return;
        };
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// How much of the current pause is left, if one is running.
    pub(super) fn paused_for(&self) -> Option<Duration> {
        self.paused_until()
            .map(|until| until.saturating_duration_since(Instant::now()))
    }

    /// The current rate in requests per second (before the small pacing headroom).
    pub(super) fn rate(&self) -> f64 {
        self.per_second
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    fn pacer(&self) -> Arc<DefaultDirectRateLimiter> {
        Arc::clone(
            &self
                .per_second
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .1,
        )
    }

    /// The end of the running pause; an expired one is cleared.
    fn paused_until(&self) -> Option<Instant> {
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_some_and(|until| until <= Instant::now()) {
            *paused = None;
        }
        *paused
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use governor::clock::{Clock, FakeRelativeClock};

    use super::*;

    fn exhausted(limit: u32) -> RateHeaders {
        RateHeaders {
            limit: Some(limit),
            remaining: Some(0),
        }
    }

    /// Acquisitions from `workers` concurrent tasks within `window` (real time: governor
    /// keeps its own clock).
    async fn count_in(limiter: &Arc<Limiter>, workers: usize, window: Duration) -> usize {
        let count = Arc::new(AtomicUsize::new(0));
        let deadline = std::time::Instant::now() + window;
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let (limiter, count) = (Arc::clone(limiter), Arc::clone(&count));
                tokio::spawn(async move {
                    loop {
                        let _permit = limiter.acquire(RateClass::Default).await;
                        if std::time::Instant::now() >= deadline {
                            return;
                        }
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("worker");
        }
        count.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spaces_requests_at_the_rate() {
        let limiter = Arc::new(Limiter::new(50.0));
        let n = count_in(&limiter, 8, Duration::from_millis(500)).await;
        // At most 1 + 0.5 s × 49.5/s = 25; the floor is loose for a busy machine.
        assert!(n <= 26, "{n} requests in 0.5 s at 50/s");
        assert!(n >= 8, "{n} requests in 0.5 s at 50/s");
    }

    // Pauses run on tokio's clock in real time here (tokio's `test-util` is not
    // enabled); only lower bounds are asserted, which a busy machine cannot break.

    #[tokio::test]
    async fn pause_blocks_every_acquire() {
        let limiter = Arc::new(Limiter::new(1000.0));
        let start = Instant::now();
        limiter.pause(Duration::from_millis(400));
        limiter.pause(Duration::from_millis(100)); // never shortens
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move {
                    let _permit = limiter.acquire(RateClass::Default).await;
                    Instant::now()
                })
            })
            .collect();
        for waiter in waiters {
            let at = waiter.await.expect("waiter");
            assert!(at - start >= Duration::from_millis(400), "{:?}", at - start);
        }
        assert_eq!(limiter.paused_for(), None);
    }

    #[tokio::test]
    async fn pause_extends_a_running_one() {
        let limiter = Limiter::new(1000.0);
        let start = Instant::now();
        limiter.pause(Duration::from_millis(100));
        limiter.pause(Duration::from_millis(300));
        let left = limiter.paused_for().expect("paused");
        assert!(left > Duration::from_millis(100) && left <= Duration::from_millis(300));
        let _permit = limiter.acquire(RateClass::Default).await;
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn pause_catches_a_worker_already_waiting() {
        let limiter = Arc::new(Limiter::new(1000.0));
        limiter.pause(Duration::from_millis(100));
        let start = Instant::now();
        let waiter = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                let _permit = limiter.acquire(RateClass::Default).await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        limiter.pause(Duration::from_millis(400));
        let at = waiter.await.expect("waiter");
        assert!(at - start >= Duration::from_millis(450), "{:?}", at - start);
    }

    #[tokio::test]
    async fn nothing_remaining_holds_until_the_next_second() {
        // Our 2/s cannot have spent a limit of 10: another client did.
        let limiter = Limiter::new(2.0);
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(100_250);
        let start = Instant::now();
        limiter.observe_at(&exhausted(10), now);
        let left = limiter.paused_for().expect("held");
        assert!(left <= Duration::from_millis(750), "{left:?}");
        let _permit = limiter.acquire(RateClass::Default).await;
        assert!(start.elapsed() >= Duration::from_millis(750));
    }

    #[tokio::test]
    async fn nothing_remaining_by_our_own_pacing_holds_nobody() {
        let limiter = Limiter::new(10.0);
        limiter.observe_at(&exhausted(10), SystemTime::UNIX_EPOCH);
        assert_eq!(limiter.paused_for(), None);
        limiter.observe(&RateHeaders {
            limit: None,
            remaining: Some(3),
        });
        assert_eq!(limiter.paused_for(), None);
    }

    #[test]
    fn a_lower_server_limit_lowers_the_rate_and_a_higher_one_does_not_raise_it() {
        let limiter = Limiter::new(50.0);
        let seen = |limit| RateHeaders {
            limit: Some(limit),
            remaining: Some(3),
        };
        limiter.observe(&seen(100));
        assert!((limiter.rate() - 50.0).abs() < f64::EPSILON);
        limiter.observe(&seen(5));
        assert!((limiter.rate() - 5.0).abs() < f64::EPSILON);
        limiter.observe(&seen(8));
        assert!((limiter.rate() - 5.0).abs() < f64::EPSILON);
        limiter.observe(&seen(0));
        assert!((limiter.rate() - 5.0).abs() < f64::EPSILON);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lowered_rate_paces_the_next_requests() {
        let limiter = Arc::new(Limiter::new(1000.0));
        limiter.observe(&RateHeaders {
            limit: Some(5),
            remaining: Some(4),
        });
        // At 5/s the first token of the new bucket is already spent: the next comes
        // ~0.2 s later, then ~0.4 s.
        let n = count_in(&limiter, 4, Duration::from_millis(500)).await;
        assert!(n <= 3, "{n} requests in 0.5 s after lowering to 5/s");
    }

    /// Sends greedily through the pacing bucket for 10 s of fake time, each wake-up
    /// late by up to `max_late`; returns the send times.
    fn simulate(rate: f64, max_late: Duration) -> Vec<Duration> {
        let clock = FakeRelativeClock::default();
        let pacer = RateLimiter::direct_with_clock(pacing_quota(rate), clock.clone());
        let (mut now, mut sent, mut seed) = (Duration::ZERO, Vec::new(), 0x2545_f491_u64);
        while now < Duration::from_secs(10) {
            match pacer.check_n(CELLS).expect("capacity") {
                Ok(()) => sent.push(now),
                Err(not_until) => {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let late = max_late.mul_f64(
                        f64::from(u32::try_from(seed >> 40).unwrap()) / f64::from(1u32 << 24),
                    );
                    let wait = not_until.wait_time_from(clock.now()) + late;
                    clock.advance(wait);
                    now += wait;
                }
            }
        }
        sent
    }

    #[test]
    fn pacing_never_puts_more_than_the_rate_in_any_second() {
        for rate in [1.0, 10.0, 50.0, 200.0, 1000.0] {
            for max_late in [0, 300, 1_500, 5_000, 50_000] {
                let sent = simulate(rate, Duration::from_micros(max_late));
                let most = (0..sent.len())
                    .map(|i| {
                        sent[i..]
                            .iter()
                            .take_while(|&&t| t < sent[i] + Duration::from_secs(1))
                            .count()
                    })
                    .max()
                    .unwrap_or(0);
                assert!(
                    most as f64 <= rate,
                    "{rate}/s, late {max_late} µs: {most} in 1 s"
                );
            }
        }
    }

    #[test]
    fn pacing_absorbs_late_wake_ups() {
        // Waking up to 1.5 ms late (under the 2 ms tolerance) costs no throughput: the
        // run still gets its 99% of the rate.
        for rate in [10.0, 50.0, 200.0] {
            let sent = simulate(rate, Duration::from_micros(1_500));
            let expected = rate * 10.0 * crate::policy::rate::HEADROOM;
            assert!(
                sent.len() as f64 >= expected,
                "{rate}/s: {} in 10 s",
                sent.len()
            );
        }
    }

    fn fast_reports() -> Limiter {
        Limiter::with_reports(1000.0, ClassGate::new(Some(60_000), Some(2)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_never_have_more_than_two_in_flight() {
        let limiter = Arc::new(fast_reports());
        let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (limiter, in_flight, most) = (
                    Arc::clone(&limiter),
                    Arc::clone(&in_flight),
                    Arc::clone(&most),
                );
                tokio::spawn(async move {
                    let permit = limiter.acquire(RateClass::Reports).await;
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("report worker");
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} reports in flight");
    }

    #[tokio::test]
    async fn a_third_report_waits_for_a_slot() {
        let limiter = fast_reports();
        let first = limiter.acquire(RateClass::Reports).await;
        let _second = limiter.acquire(RateClass::Reports).await;
        let third = tokio::time::timeout(
            Duration::from_millis(100),
            limiter.acquire(RateClass::Reports),
        )
        .await;
        assert!(third.is_err(), "a third report got a slot");
        // Other classes are not held up by the reports cap.
        let _default = limiter.acquire(RateClass::Default).await;
        drop(first);
        let _third =
            tokio::time::timeout(Duration::from_secs(5), limiter.acquire(RateClass::Reports))
                .await
                .expect("a freed slot is handed on");
    }

    #[tokio::test]
    async fn reports_are_spaced_by_the_minute_limit() {
        // The catalog's 10 a minute: the second report waits ~6 s.
        let limiter = Limiter::new(1000.0);
        drop(limiter.acquire(RateClass::Reports).await);
        let second = tokio::time::timeout(
            Duration::from_millis(200),
            limiter.acquire(RateClass::Reports),
        )
        .await;
        assert!(second.is_err(), "two reports within 200 ms");
        let _default = limiter.acquire(RateClass::Default).await;
    }
}
