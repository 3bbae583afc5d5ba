//! The request log: every `/api/v1` request in arrival order with the status it got and
//! the fault injected into it, so tests can assert "no write was sent". It keeps the
//! newest 100,000 entries, so a long-running sandbox does not grow without bound.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::LoggedRequest;

/// How many entries the log keeps.
const CAPACITY: usize = 100_000;

/// The log, behind its own lock (never the org's).
#[derive(Debug, Default)]
pub(super) struct RequestLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<LoggedRequest>,
    /// Entries dropped from the front so far: absolute slot = dropped + position.
    dropped: usize,
}

impl RequestLog {
    /// Records an arrival; returns its slot for [`RequestLog::finish`].
    pub(super) fn arrive(&self, entry: LoggedRequest) -> usize {
        let mut inner = self.inner.lock().expect("log lock");
        if inner.entries.len() == CAPACITY {
            inner.entries.pop_front();
            inner.dropped += 1;
        }
        inner.entries.push_back(entry);
        inner.dropped + inner.entries.len() - 1
    }

    /// Sets the outcome of the request in `slot` (if it is still kept).
    pub(super) fn finish(&self, slot: usize, status: u16, fault: Option<String>) {
        let mut inner = self.inner.lock().expect("log lock");
        let Some(position) = slot.checked_sub(inner.dropped) else {
            return;
        };
        if let Some(entry) = inner.entries.get_mut(position) {
            entry.status = status;
            entry.fault = fault;
        }
    }

    /// A copy of the kept entries, oldest first.
    pub(super) fn entries(&self) -> Vec<LoggedRequest> {
        self.inner
            .lock()
            .expect("log lock")
            .entries
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets every entry (slots handed out before stay valid and are ignored).
    pub(super) fn clear(&self) {
        let mut inner = self.inner.lock().expect("log lock");
        inner.dropped += inner.entries.len();
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            path: path.into(),
            query: None,
            status: 0,
            at_ms: 0,
            fault: None,
        }
    }

    #[test]
    fn slots_survive_clearing() {
        let log = RequestLog::default();
        let a = log.arrive(entry("/a"));
        log.clear();
        let b = log.arrive(entry("/b"));
        log.finish(a, 200, None);
        log.finish(b, 404, None);
        let entries = log.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].path.as_str(), entries[0].status), ("/b", 404));
    }
}
