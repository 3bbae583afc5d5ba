//! One Gladly operation as data, and the small vocabularies it is made of: HTTP method,
//! rate class, response kind, query parameters and request body.
//!
//! These types only describe; they send nothing. Checking a body against its shape
//! lives in `check.rs`, filling a path template in `path.rs`.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::check::{self, BodyProblem};
use super::path;
use super::shape::Shape;

/// An HTTP method the Gladly API uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`: reads.
    Get,
    /// `POST`: creates, and a few actions (reports, replies).
    Post,
    /// `PUT`: replaces.
    Put,
    /// `PATCH`: partial updates.
    Patch,
    /// `DELETE`: removes.
    Delete,
}

impl Method {
    /// Every method, in the order the catalog sorts them.
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    /// The method as sent on the wire: `"GET"`, `"POST"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the method may change state on the server (everything but `GET`).
    ///
    /// A few `POST`s only read; [`Operation::mutates`] knows which.
    pub const fn is_write(self) -> bool {
        !matches!(self, Method::Get)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that is not one of [`Method::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMethodError {
    /// The text that was given.
    pub found: String,
}

impl fmt::Display for ParseMethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown HTTP method `{}`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`",
            self.found
        )
    }
}

impl std::error::Error for ParseMethodError {}

impl FromStr for Method {
    type Err = ParseMethodError;

    /// Case-insensitive: `get`, `Get` and `GET` all work.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| ParseMethodError {
                found: text.to_owned(),
            })
    }
}

/// Which of Gladly's documented rate limits an operation falls under.
///
/// Limits are per organization, shared by every client and token. Requests of the
/// `Reports` class also count against the org-wide per-second budget of `Default`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateClass {
    /// Every API without its own limit: 10 requests per second for any method.
    Default,
    /// The Reports APIs: 10 requests per minute, at most 2 in flight.
    Reports,
}

impl RateClass {
    /// The class name used in the catalog and in `runner ops`: `default` or `reports`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateClass::Default => "default",
            RateClass::Reports => "reports",
        }
    }

    /// The documented requests-per-second limit of this class, if it has one.
    ///
    /// The org's real limit can differ; the `Ratelimit-Limit-Second` header says.
    pub const fn per_second(self) -> Option<u32> {
        match self {
            RateClass::Default => Some(10),
            RateClass::Reports => None,
        }
    }

    /// The documented requests-per-minute limit of this class, if it has one.
    pub const fn per_minute(self) -> Option<u32> {
        match self {
            RateClass::Default => None,
            RateClass::Reports => Some(10),
        }
    }

    /// How many requests of this class may be in flight at once across the org, if
    /// limited.
    pub const fn max_concurrent(self) -> Option<u32> {
        match self {
            RateClass::Default => None,
            RateClass::Reports => Some(2),
        }
    }
}

impl fmt::Display for RateClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a successful response carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseKind {
    /// A JSON document.
    Json,
    /// No body (a 204, or a 201 whose `Location` names the new resource).
    Empty,
    /// A CSV file (reports).
    Csv,
    /// JSON Lines: one JSON object per line (events, export files).
    #[serde(rename = "jsonl")]
    JsonLines,
    /// MP3 audio (call and voicemail recordings).
    Audio,
    /// A 303 whose `Location` points at the content (attachments).
    Redirect,
}

impl ResponseKind {
    /// The kind's name in the catalog: `json`, `empty`, `csv`, `jsonl`, `audio`, `redirect`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseKind::Json => "json",
            ResponseKind::Empty => "empty",
            ResponseKind::Csv => "csv",
            ResponseKind::JsonLines => "jsonl",
            ResponseKind::Audio => "audio",
            ResponseKind::Redirect => "redirect",
        }
    }
}

/// A query-string parameter an operation understands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParam {
    /// The parameter name, e.g. `startAt`.
    pub name: String,
    /// Whether the API refuses a request without it.
    pub required: bool,
    /// The shape of one value (for a repeated parameter, of each value).
    pub shape: Shape,
    /// Whether the parameter is repeated once per value (`entities=A&entities=B`).
    pub repeated: bool,
}

/// The JSON request body an operation takes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodySpec {
    /// Whether the body may be left out.
    pub required: bool,
    /// What the body must look like.
    pub shape: Shape,
}

/// One Gladly REST operation: where it lives, what it takes and what it answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    /// The operationId, e.g. `createCustomer` (names chosen by us where the spec has none).
    pub id: String,
    /// The HTTP method.
    pub method: Method,
    /// The path template, e.g. `/api/v1/customer-profiles/{customerId}`, without a query.
    pub path: String,
    /// The `{param}` names of `path`, in order.
    pub path_params: Vec<String>,
    /// The query parameters, in the spec's order.
    pub query: Vec<QueryParam>,
    /// The JSON body, or `None` when the operation takes none.
    pub body: Option<BodySpec>,
    /// The status of a successful response (200, 201, 204 or 303).
    pub success: u16,
    /// The other statuses the spec documents for it (400, 404, 409, …), ascending.
    pub errors: Vec<u16>,
    /// Which rate limit applies.
    pub rate_class: RateClass,
    /// What a successful response carries.
    pub response: ResponseKind,
    /// The success response's media type, e.g. `application/x-ndjson`, when it has a body.
    pub content_type: Option<String>,
    /// Whether a successful response names a resource in its `Location` header.
    pub location: bool,
    /// Whether the operation may change state; `false` for `GET`s and for report `POST`s,
    /// so a dry run may send exactly the operations where this is `false`.
    pub mutates: bool,
    /// The API section (the spec's tag), e.g. `Customers`.
    pub resource: String,
}

impl Operation {
    /// The path with every `{param}` filled from `params`, each value percent-encoded as
    /// one path segment. The error names the parameter that was missing, empty or `..`.
    pub fn render_path(&self, params: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        path::render(&self.path, params)
    }

    /// Every problem with `body` as this operation's request body, in document order.
    /// Empty means the body is acceptable.
    pub fn check_body(&self, body: Option<&serde_json::Value>) -> Vec<BodyProblem> {
        check::check_body(self.body.as_ref(), body)
    }

    /// The query parameter called `name`, if the operation has one.
    pub fn query_param(&self, name: &str) -> Option<&QueryParam> {
        self.query.iter().find(|q| q.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_case_insensitively() {
        assert_eq!("get".parse::<Method>(), Ok(Method::Get));
        assert_eq!("Patch".parse::<Method>(), Ok(Method::Patch));
        assert_eq!("DELETE".parse::<Method>(), Ok(Method::Delete));
        let err = "FETCH".parse::<Method>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown HTTP method `FETCH`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`"
        );
    }

    #[test]
    fn methods_print_and_classify() {
        for method in Method::ALL {
            assert_eq!(method.to_string().parse::<Method>(), Ok(method));
            assert_eq!(method.is_write(), method != Method::Get);
        }
    }

    #[test]
    fn rate_classes_carry_the_documented_limits() {
        assert_eq!(RateClass::Default.per_second(), Some(10));
        assert_eq!(RateClass::Default.max_concurrent(), None);
        assert_eq!(RateClass::Reports.per_minute(), Some(10));
        assert_eq!(RateClass::Reports.max_concurrent(), Some(2));
        assert_eq!(RateClass::Reports.to_string(), "reports");
    }

    #[test]
    fn response_kinds_read_their_catalog_names() {
        for kind in [
            ResponseKind::Json,
            ResponseKind::Empty,
            ResponseKind::Csv,
            ResponseKind::JsonLines,
            ResponseKind::Audio,
            ResponseKind::Redirect,
        ] {
            let json = format!("\"{}\"", kind.as_str());
            assert_eq!(serde_json::from_str::<ResponseKind>(&json).unwrap(), kind);
        }
    }
}
