//! Placeholder.
use axum::response::Response;
pub(super) async fn stream() -> Response {
    super::fallback::not_simulated_any()
}
