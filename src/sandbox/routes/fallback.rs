//! Everything the sandbox does not simulate. A request matching a real Gladly operation
//! of the catalog answers 501 naming that operation; any other path answers 404
//! `not_exist`. Both in Gladly's error shape.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::catalog::{self, Method};
use crate::sandbox::error::GladlyError;

/// The catalog operation a request hits, if any.
pub(in crate::sandbox) fn operation_of(
    method: &str,
    path: &str,
) -> Option<&'static catalog::Operation> {
    let method: Method = method.parse().ok()?;
    catalog::gladly().resolve(method, path).map(|r| r.operation)
}

/// Answers a method a path does not take: 405, with the methods it does take in `Allow`.
pub(super) async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let allowed: Vec<&str> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| operation_of(m, &path).is_some())
        .collect();
    let mut response = GladlyError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "invalid",
        format!(
            "{} is not supported on {path}; it takes {}",
            req.method(),
            allowed.join(", ")
        ),
    )
    .into_response();
    if let Ok(value) = allowed.join(", ").parse() {
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, value);
    }
    response
}

/// Answers requests no route matched.
pub(super) async fn not_simulated(req: Request) -> Response {
    let method = req.method().as_str();
    let path = req.uri().path();
    match operation_of(method, path) {
        Some(op) => GladlyError::not_implemented(method, path, Some(&op.id)).into_response(),
        None => GladlyError::new(
            StatusCode::NOT_FOUND,
            None,
            "not_exist",
            format!("no Gladly API operation matches {method} {path}"),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catalog_operations_without_a_route_are_501_naming_the_operation() {
        let req = Request::builder()
            .method("GET")
            .uri("/api/v1/business-hours")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = not_simulated(req).await;
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errors"][0]["code"], "not_implemented");
        assert!(
            body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("getBusinessHours")
        );
    }

    #[tokio::test]
    async fn other_paths_are_404() {
        let req = Request::builder()
            .method("GET")
            .uri("/nowhere")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(not_simulated(req).await.status(), StatusCode::NOT_FOUND);
    }
}
