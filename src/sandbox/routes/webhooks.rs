//! Placeholder.

use axum::Router;

use super::App;

/// Routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
}
