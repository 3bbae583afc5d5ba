//! The page itself: one HTML file with its script and styles, built into the binary (no
//! front-end build step, no files to install).

use axum::http::header;
use axum::response::IntoResponse;

/// The page's HTML, script and styles.
const PAGE: &str = include_str!("page.html");

/// `GET /?t=TOKEN`: the page. The token stays in the address bar and is sent by the
/// script as a header.
pub(crate) async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors 'none'; form-action 'none'",
            ),
        ],
        PAGE,
    )
}
