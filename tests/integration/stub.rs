//! A stand-in for Gladly that answers fixed routes with bodies written by hand from the
//! API reference (its schemas and examples), not by the sandbox: read jobs are tested on
//! input a sandbox that drifted from Gladly cannot have shaped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::harness::Test;

/// A stand-in serving `GET path → (content type, body)` on 127.0.0.1.
pub(crate) struct Stub {
    /// Serves the routes until the test ends.
    _runtime: tokio::runtime::Runtime,
    url: String,
    /// The paths asked for, in order.
    pub(crate) asked: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    pub(crate) fn start(routes: &[(&str, &str, &str)]) -> Self {
        let routes: Arc<BTreeMap<String, (String, String)>> = Arc::new(
            routes
                .iter()
                .map(|(path, kind, body)| {
                    ((*path).to_owned(), ((*kind).to_owned(), (*body).to_owned()))
                })
                .collect(),
        );
        let asked = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&asked);
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let routes = Arc::clone(&routes);
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(uri.path().to_owned());
                match routes.get(uri.path()) {
                    Some((kind, body)) => (
                        axum::http::StatusCode::OK,
                        [(axum::http::header::CONTENT_TYPE, kind.clone())],
                        body.clone(),
                    ),
                    None => (
                        axum::http::StatusCode::NOT_FOUND,
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/json".to_owned(),
                        )],
                        r#"{"errors":[{"code":"not_exist","detail":"not here"}]}"#.to_owned(),
                    ),
                }
            }
        });
        Stub::serve(app, asked)
    }

    /// Serves `app` (answering as the test needs) on a runtime of its own; `asked` is what
    /// the app records of the requests.
    pub(crate) fn serve(app: axum::Router, asked: Arc<Mutex<Vec<String>>>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Stub {
            _runtime: runtime,
            url,
            asked,
        }
    }

    /// Points a test's binary at the stand-in.
    pub(crate) fn env(&self, test: Test) -> Test {
        test.env("GLADLY_HOST", &self.url)
            .env("GLADLY_USERNAME", "ops@example.com")
            .env("GLADLY_API_TOKEN", "stub-token")
    }
}
