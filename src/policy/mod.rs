//! Pure decisions about sending requests: how fast, whether to try again, how long to
//! wait. No I/O, no async, no clock reads (callers pass the time and the jitter), so every
//! rule is unit-tested without a runtime.

pub(crate) mod rate;
pub(crate) mod retry;
