//! The one way a request reaches Gladly: under the rate limiter, with the retry policy's
//! one loop (backoff, `Retry-After`, 429 pauses), for rows, lookups and streamed input
//! alike. What a caller does with the verdict (fail a row, stop the run) is its own; what
//! it wants to hear along the way (counts, events, health) comes through a [`Watch`].

use std::time::{Duration, Instant};

use super::client::{Client, Response, SendError, Streaming};
use super::limiter::Limiter;
use super::render::RenderedRequest;
use crate::catalog::RateClass;
use crate::policy::rate::parse_rate_headers;
use crate::policy::retry::{
    Attempt, Decision, RetryPolicy, decide, parse_retry_after, safe_to_retry,
};

/// How the answer's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Whole, under the client's time limit.
    Whole,
    /// Whole, however long the transfer takes (an export file).
    Large,
    /// A success is handed back streaming; anything else is read whole and judged.
    Stream,
}

/// What the sender tells its caller along the way. Every method has a silent default.
pub(crate) trait Watch: Sync {
    /// True when nothing more may be sent (the run was stopped hard).
    fn halted(&self) -> bool {
        false
    }
    /// An attempt was answered (or not), `latency` after it left.
    fn attempted(&self, _answer: Result<&Response, &SendError>, _latency: Duration) {}
    /// The request goes again as attempt `attempt` because of `reason`.
    fn retrying(&self, _attempt: u32, _reason: &str, _after: Duration) {}
    /// Gladly answered 429: everything pauses for `wait`.
    fn throttled(&self, _wait: Duration) {}
}

/// No one listens (lookups, the input request).
pub(crate) struct Quiet;

impl Watch for Quiet {}

/// The last answer and what the policy made of it.
pub(crate) struct Exchange {
    /// The answer: read whole, or streaming (a success with [`Read::Stream`]).
    pub(crate) answer: Result<Answer, SendError>,
    /// Attempts made (429s are not attempts).
    pub(crate) attempts: u32,
    /// Why sending ended.
    pub(crate) verdict: Verdict,
}

/// An answer read whole or still streaming.
pub(crate) enum Answer {
    Whole(Response),
    Streaming(Streaming),
}

impl Answer {
    /// The answer read whole (a streaming one has no body here).
    pub(crate) fn whole(self) -> Option<Response> {
        match self {
            Answer::Whole(r) => Some(r),
            Answer::Streaming(_) => None,
        }
    }
}

/// Why the sender stopped sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The answer stands (a success, or an error retrying would not change).
    Accept,
    /// 401 or 403: no request will do better.
    Unauthorized(u16),
    /// Retries ran out on an error that is safe to send again.
    GaveUp(String),
    /// Retries cannot be tried: the request may have been applied.
    Unknown(String),
    /// The run was stopped hard before an attempt.
    Halted,
}

/// A request with what the sender must know about it.
pub(crate) struct Outgoing<'a> {
    pub(crate) request: &'a RenderedRequest,
    /// Its rate class (reports have their own limit).
    pub(crate) class: RateClass,
    /// Whether sending it twice cannot apply it twice.
    pub(crate) safe: bool,
    /// How its answer is read.
    pub(crate) read: Read,
}

/// Sends `request` until the retry policy accepts an answer or gives up.
pub(crate) async fn exchange(
    client: &Client,
    limiter: &Limiter,
    policy: &RetryPolicy,
    outgoing: Outgoing<'_>,
    watch: &dyn Watch,
) -> Exchange {
    let Outgoing {
        request,
        class,
        safe,
        read,
    } = outgoing;
    let mut attempts = 0;
    let mut throttled = Duration::ZERO;
    loop {
        if watch.halted() {
            return Exchange {
                answer: Err(SendError::NotSent("the run stopped".to_owned())),
                attempts,
                verdict: Verdict::Halted,
            };
        }
        attempts += 1;
        let permit = limiter.acquire(class).await;
        let sent = Instant::now();
        let answer = match read {
            Read::Whole => client.send(request).await.map(Answer::Whole),
            Read::Large => match client.open(request).await {
                Ok(streaming) => streaming.into_response().await.map(Answer::Whole),
                Err(e) => Err(e),
            },
            Read::Stream => match client.open(request).await {
                Ok(s) if s.status < 300 => Ok(Answer::Streaming(s)),
                Ok(s) => s.into_response().await.map(Answer::Whole),
                Err(e) => Err(e),
            },
        };
        drop(permit);
        let judged = match &answer {
            Ok(Answer::Streaming(_)) => {
                return Exchange {
                    answer,
                    attempts,
                    verdict: Verdict::Accept,
                };
            }
            Ok(Answer::Whole(r)) => Ok(r),
            Err(e) => Err(e),
        };
        watch.attempted(judged, sent.elapsed());
        if let Ok(r) = judged {
            limiter.observe(&parse_rate_headers(
                r.header("ratelimit-limit-second"),
                r.header("ratelimit-remaining-second"),
            ));
        }
        let attempt = attempt_of(judged);
        match decide(policy, &attempt, attempts, safe, throttled, rand::random()) {
            Decision::Accept => {
                return Exchange {
                    answer,
                    attempts,
                    verdict: Verdict::Accept,
                };
            }
            Decision::Unauthorized(status) => {
                return Exchange {
                    answer,
                    attempts,
                    verdict: Verdict::Unauthorized(status),
                };
            }
            Decision::GiveUp { reason } => {
                return Exchange {
                    answer,
                    attempts,
                    verdict: Verdict::GaveUp(reason),
                };
            }
            Decision::OutcomeUnknown { reason } => {
                return Exchange {
                    answer,
                    attempts,
                    verdict: Verdict::Unknown(reason),
                };
            }
            Decision::Retry { after, reason } => {
                watch.retrying(attempts + 1, &reason, after);
                tokio::time::sleep(after).await;
            }
            Decision::Throttled { after } => {
                // A 429 is not an attempt: the same request goes again after the pause.
                attempts -= 1;
                throttled += after;
                limiter.pause(after);
                watch.throttled(after);
            }
        }
    }
}

/// A read with the retry policy and no row (lookups, export files): the answer, or why
/// there is none.
pub(crate) async fn read(
    client: &Client,
    limiter: &Limiter,
    policy: &RetryPolicy,
    request: &RenderedRequest,
    read: Read,
) -> Result<Response, String> {
    let outgoing = Outgoing {
        request,
        class: RateClass::Default,
        safe: true,
        read,
    };
    let exchange = exchange(client, limiter, policy, outgoing, &Quiet).await;
    match exchange.verdict {
        Verdict::Accept | Verdict::Unauthorized(_) => match exchange.answer {
            Ok(answer) => answer
                .whole()
                .ok_or_else(|| "the answer could not be read".to_owned()),
            Err(e) => Err(e.to_string()),
        },
        Verdict::GaveUp(reason) | Verdict::Unknown(reason) => Err(reason),
        Verdict::Halted => Err("the run stopped".to_owned()),
    }
}

/// What an answer (or its absence) means for the retry policy.
pub(crate) fn attempt_of(answer: Result<&Response, &SendError>) -> Attempt {
    match answer {
        Ok(r) => Attempt::Status {
            status: r.status,
            retry_after: r
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now())),
        },
        Err(SendError::Timeout) => Attempt::Timeout,
        Err(SendError::Connection(_)) => Attempt::Connection,
        Err(SendError::NotSent(_)) => Attempt::NotSent,
    }
}

/// A request whose repeat cannot apply it twice: a GET, a write with a client id, or a
/// step marked idempotent.
pub(crate) fn safe_request(request: &RenderedRequest, idempotent: bool) -> bool {
    safe_to_retry(request.method.as_str(), has_client_id(request), idempotent)
}

/// The body names its own `id` (a create Gladly refuses to make twice).
pub(crate) fn has_client_id(rendered: &RenderedRequest) -> bool {
    rendered
        .body
        .as_ref()
        .and_then(|b| b.get("id"))
        .is_some_and(|id| id.as_str().is_some_and(|s| !s.is_empty()))
}

/// A 409 saying the client-supplied id is taken: `attr: id`, or `attr:
/// newConversationItems`, which is how Gladly reports a taken task or conversation-item id.
pub(crate) fn is_id_taken(response: &Response) -> bool {
    if response.status != 409 {
        return false;
    }
    let errors = response.body.get("errors");
    let first = match errors {
        Some(serde_json::Value::Array(items)) => items.first(),
        other => other,
    };
    first.is_some_and(|e| {
        e.get("code").and_then(|c| c.as_str()) == Some("taken")
            && matches!(
                e.get("attr").and_then(|a| a.as_str()),
                Some("id" | "newConversationItems")
            )
    })
}

/// Gladly's error code and detail from an error response.
pub(crate) fn gladly_error(response: &Response) -> (String, String) {
    let first = response.body.get("errors").and_then(|e| match e {
        serde_json::Value::Array(items) => items.first(),
        other => Some(other),
    });
    let text = |key: &str| {
        first
            .and_then(|f| f.get(key))
            .map(super::render::json_text)
            .unwrap_or_default()
    };
    let (code, attr, detail) = (text("code"), text("attr"), text("detail"));
    let detail = match (attr.is_empty(), detail.is_empty()) {
        (_, true) => format!("HTTP {}", response.status),
        (true, false) => detail,
        (false, false) => format!("{attr}: {detail}"),
    };
    (code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }

    #[test]
    fn taken_ids_of_customers_tasks_and_items_are_recognised() {
        let taken = |attr: &str| {
            answer(
                409,
                json!({"errors": [{"attr": attr, "code": "taken", "detail": "x"}]}),
            )
        };
        assert!(is_id_taken(&taken("id")));
        assert!(is_id_taken(&taken("newConversationItems")));
        assert!(!is_id_taken(&taken("emails")), "a real conflict");
        assert!(!is_id_taken(&answer(
            400,
            json!({"errors": [{"attr": "id", "code": "taken"}]})
        )));
    }
}
