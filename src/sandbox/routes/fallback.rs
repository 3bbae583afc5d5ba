//! Everything the sandbox does not simulate: a 501 in Gladly's error shape for paths under
//! `/api/v1`, a 404 `not_exist` elsewhere.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::sandbox::error::GladlyError;

/// Answers requests no route matched.
pub(super) async fn not_simulated(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/v1/") {
        GladlyError::not_implemented(req.method().as_str(), path, None).into_response()
    } else {
        GladlyError::new(
            StatusCode::NOT_FOUND,
            None,
            "not_exist",
            format!("no Gladly API at {path}"),
        )
        .into_response()
    }
}
