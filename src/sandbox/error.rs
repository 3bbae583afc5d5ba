//! Gladly-shaped error responses: the one helper every route builds its failures with.
//!
//! Gladly always answers an error as `{"errors":[{"attr","code","detail","meta"}]}`; this
//! module owns that shape, the status code that goes with each kind of failure, and the
//! machine codes (`blank`, `invalid`, `taken`, `moved`, `not_exist`, `invalid_state`, ...).
//! It does not decide *when* a rule is broken: the routes do.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One entry of a Gladly `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorItem {
    /// The input field the error is about (`assignee.inboxId`), when there is one.
    pub attr: Option<String>,
    /// Gladly's machine code (`blank`, `invalid`, `taken`, ...).
    pub code: String,
    /// A human explanation.
    pub detail: String,
    /// Extra facts (`existingAnswerId`, `old`/`new`, ...), when the error carries any.
    pub meta: Option<Map<String, Value>>,
}

/// An HTTP error answered in Gladly's JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct GladlyError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The entries of the `errors` array (never empty).
    pub errors: Vec<ErrorItem>,
    /// Extra response headers (`Location` on a 301).
    pub headers: Vec<(&'static str, String)>,
}

impl GladlyError {
    /// A single-entry error with the given status, attr, code and detail.
    pub fn new(
        status: StatusCode,
        attr: Option<&str>,
        code: &str,
        detail: impl Into<String>,
    ) -> Self {
        GladlyError {
            status,
            errors: vec![ErrorItem {
                attr: attr.map(str::to_owned),
                code: code.to_owned(),
                detail: detail.into(),
                meta: None,
            }],
            headers: Vec::new(),
        }
    }

    /// 400 `blank`: a required value is missing.
    pub fn blank(attr: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(attr), "blank", detail)
    }

    /// 400 `invalid`: a value has the wrong format or is not allowed.
    pub fn invalid(attr: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(attr), "invalid", detail)
    }

    /// 400 `too_long`: a string is over its length limit.
    pub fn too_long(attr: &str, max: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some(attr),
            "too_long",
            format!("{attr} must be at most {max} characters"),
        )
    }

    /// 400 `invalid_state`: the record's current state forbids the change.
    pub fn invalid_state(attr: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(attr), "invalid_state", detail)
    }

    /// 409 `taken`: a uniqueness rule is broken on `attr`.
    pub fn taken(attr: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(attr), "taken", detail)
    }

    /// 404 `not_exist`: the addressed record does not exist.
    pub fn not_exist(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "not_exist", detail)
    }

    /// 301 `moved`: a merged customer, with `meta.old` / `meta.new`.
    pub fn moved(attr: &str, detail: impl Into<String>, old: &str, new: &str) -> Self {
        Self::new(StatusCode::MOVED_PERMANENTLY, Some(attr), "moved", detail)
            .with_meta("old", old)
            .with_meta("new", new)
    }

    /// 401: no or wrong Basic credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "unauthorized",
            "valid Basic authentication (API user email and token) is required",
        )
    }

    /// 429: the organization's rate limit is exhausted.
    pub fn rate_limited(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, None, "rate_limited", detail)
    }

    /// 501: a real Gladly operation the sandbox does not simulate.
    pub fn not_implemented(method: &str, path: &str, operation: Option<&str>) -> Self {
        let what = operation.map_or_else(String::new, |op| format!(" ({op})"));
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            None,
            "not_implemented",
            format!("the sandbox does not simulate {method} {path}{what}"),
        )
    }

    /// A 5xx answered by fault injection.
    pub fn injected(status: StatusCode) -> Self {
        Self::new(status, None, "temporary_failure", "injected sandbox fault")
    }

    /// Adds one `meta` entry to the (first) error.
    #[must_use]
    pub fn with_meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Some(item) = self.errors.first_mut() {
            item.meta
                .get_or_insert_with(Map::new)
                .insert(key.to_owned(), value.into());
        }
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The JSON body: `{"errors":[...]}`.
    pub fn body(&self) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let mut obj = Map::new();
                if let Some(attr) = &e.attr {
                    obj.insert("attr".into(), json!(attr));
                }
                obj.insert("code".into(), json!(e.code));
                obj.insert("detail".into(), json!(e.detail));
                if let Some(meta) = &e.meta {
                    obj.insert("meta".into(), Value::Object(meta.clone()));
                }
                Value::Object(obj)
            })
            .collect();
        json!({ "errors": errors })
    }
}

impl IntoResponse for GladlyError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        for (name, value) in &self.headers {
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(*name, value);
            }
        }
        response
    }
}

/// The result type of every route handler.
pub type RouteResult = Result<Response, GladlyError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_gladly_shape() {
        let err = GladlyError::taken("name", "duplicate answer name")
            .with_meta("existingAnswerId", "abc");
        assert_eq!(
            err.body(),
            json!({"errors":[{"attr":"name","code":"taken","detail":"duplicate answer name","meta":{"existingAnswerId":"abc"}}]})
        );
        assert_eq!(err.status, StatusCode::CONFLICT);
    }

    #[test]
    fn not_exist_has_no_attr() {
        let body = GladlyError::not_exist("task does not exist").body();
        assert_eq!(
            body,
            json!({"errors":[{"code":"not_exist","detail":"task does not exist"}]})
        );
    }
}
