//! Placeholder.
use axum::response::Response;
pub(super) async fn generate() -> Response {
    super::fallback::not_simulated_any()
}
pub(super) async fn work_sessions() -> Response {
    super::fallback::not_simulated_any()
}
