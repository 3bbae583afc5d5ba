//! The sandbox over real HTTP: every Gladly rule it simulates, one test per status or
//! error rule, asserting the org's state after each call (snapshot or follow-up GET).
//! Most tests run with the rate limit off so they stay fast.

mod answers;
mod binary;
mod clock;
mod conformance;
mod conventions;
mod conversations;
mod customers;
mod directory;
mod export;
mod extras;
mod faults;
mod items;
mod read_side;
mod reports_events;
mod tasks;
mod topics;
mod webhooks;

use std::time::Duration;

use gladly_runner::sandbox::{self, Sandbox, SandboxOptions};
use reqwest::Method;
use serde_json::Value;

/// The id the default org (seed 1) gives a fixture label such as `customer:ada`.
pub(crate) fn id(label: &str) -> String {
    gladly_runner::sandbox::state::gladly_id(1, label)
}

/// A running sandbox plus an authenticated client.
pub(crate) struct Api {
    pub(crate) sandbox: Sandbox,
    client: reqwest::Client,
}

/// One response, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Reply {
    /// A header's value, or "".
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `errors[0].code`.
    pub(crate) fn code(&self) -> &str {
        self.json["errors"][0]["code"].as_str().unwrap_or("")
    }

    /// `errors[0].attr`.
    pub(crate) fn attr(&self) -> &str {
        self.json["errors"][0]["attr"].as_str().unwrap_or("")
    }

    /// Asserts the status and Gladly's error shape with the given code and attr.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: u16, code: &str, attr: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        let errors = self.json["errors"].as_array().expect("errors array");
        assert_eq!(errors.len(), 1, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert!(
            self.json["errors"][0]["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
        if let Some(attr) = attr {
            assert_eq!(self.attr(), attr, "{}", self.text);
        }
    }
}

/// A reqwest client for plain http on loopback.
pub(crate) fn client(timeout: Option<Duration>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Tests look at raw statuses: a 301 `moved` must not be followed.
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("client")
}

impl Api {
    /// A sandbox with the default org and no rate limits.
    pub(crate) async fn new() -> Self {
        Api::with(SandboxOptions::unlimited()).await
    }

    /// A sandbox with the given options.
    pub(crate) async fn with(opts: SandboxOptions) -> Self {
        let sandbox = sandbox::start(opts).await.expect("sandbox starts");
        Api {
            sandbox,
            client: client(None),
        }
    }

    /// Uses another client (e.g. one with a timeout).
    pub(crate) fn client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Sends an authenticated request; errors are transport errors only.
    pub(crate) async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<Reply> {
        let url = format!("{}{path}", self.sandbox.base_url());
        let mut request = self
            .client
            .request(method, url)
            .basic_auth(self.sandbox.username(), Some(self.sandbox.token()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            text,
            json,
        })
    }

    /// Sends an authenticated request.
    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.try_send(method, path, body)
            .await
            .expect("request completes")
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// The org state now.
    pub(crate) fn state(&self) -> Value {
        self.sandbox.snapshot()
    }
}

/// Whether `text` looks like `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub(crate) fn is_gladly_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && text.bytes().filter(u8::is_ascii_digit).count() == 17
}

/// Whether `text` is a 22-character URL-safe base64 id.
pub(crate) fn is_gladly_id(text: &str) -> bool {
    text.len() == 22
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
