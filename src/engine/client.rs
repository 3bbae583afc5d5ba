//! The connection to a Gladly org: credentials from the environment, and an HTTP client
//! that sends one rendered request and reads its answer.
//!
//! The API token lives only in [`Credentials`] (whose `Debug` hides it) and in the
//! `Authorization` header reqwest marks as sensitive; it is never logged, printed or
//! written. Retries and rate limiting are not decided here (see `policy` and `limiter`).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::render::RenderedRequest;

/// Where and as whom requests go.
#[derive(Clone)]
pub(crate) struct Credentials {
    host: String,
    username: String,
    token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("host", &self.host)
            .field("username", &self.username)
            .field("token", &"<hidden>")
            .finish()
    }
}

/// Why credentials cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialsError(pub String);

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CredentialsError {}

impl Credentials {
    /// Reads `GLADLY_HOST`, `GLADLY_USERNAME` and `GLADLY_API_TOKEN` through `var`
    /// (the process environment, after any `.env` file was loaded).
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CredentialsError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    CredentialsError(format!(
                        "`{name}` is not set: put GLADLY_HOST, GLADLY_USERNAME and GLADLY_API_TOKEN \
                         in the environment or a .env file (or use --sandbox)"
                    ))
                })
        };
        let host = check_host(&get("GLADLY_HOST")?)?;
        Ok(Credentials {
            host,
            username: get("GLADLY_USERNAME")?,
            token: get("GLADLY_API_TOKEN")?,
        })
    }

    /// Credentials given directly (the in-process sandbox).
    pub(crate) fn new(host: &str, username: &str, token: &str) -> Result<Self, CredentialsError> {
        Ok(Credentials {
            host: check_host(host)?,
            username: username.to_owned(),
            token: token.to_owned(),
        })
    }

    /// `https://acme.gladly.com` (no trailing slash).
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The API user's email.
    pub(crate) fn username(&self) -> &str {
        &self.username
    }

    /// The token, for handing to a child process's environment (`runner ui`); never
    /// printed, logged or written.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// `https://user:token@host` → `https://***@host`: the part before `@` in the authority
/// is never shown.
fn redact_userinfo(raw: &str) -> String {
    let (scheme, rest) = raw.split_once("://").unwrap_or(("", raw));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => {
            let sep = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{sep}***@{}", &rest[at + 1..])
        }
        None => raw.to_owned(),
    }
}

/// Checks `GLADLY_HOST`: a URL with no path, https (or http to this machine only).
fn check_host(raw: &str) -> Result<String, CredentialsError> {
    // Whatever is wrong with it, the refusal never echoes a secret written into it.
    let shown = redact_userinfo(raw);
    let raw = shown.as_str();
    if raw.contains("***@") {
        return Err(CredentialsError(format!(
            "GLADLY_HOST `{raw}` holds credentials; give just the address (like \
             `https://acme.gladly.com`) and put the user and token in GLADLY_USERNAME and \
             GLADLY_API_TOKEN"
        )));
    }
    let trimmed = raw.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|e| {
        CredentialsError(format!(
            "GLADLY_HOST `{raw}` is not a URL ({e}): write it like `https://acme.gladly.com`"
        ))
    })?;
    let Some(host) = url.host_str() else {
        return Err(CredentialsError(format!(
            "GLADLY_HOST `{raw}` has no host name"
        )));
    };
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(CredentialsError(format!(
            "GLADLY_HOST `{raw}` must be just the org's address, like `https://acme.gladly.com` \
             (paths such as /api/v1 are added by the runner)"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(CredentialsError(format!(
                "GLADLY_HOST `{raw}` uses plain http: the token would travel unencrypted; \
                 use https (http is allowed only to this machine)"
            )));
        }
        other => {
            return Err(CredentialsError(format!(
                "GLADLY_HOST `{raw}` has scheme `{other}`: use https"
            )));
        }
    }
    Ok(trimmed.to_owned())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An answer from the server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body: parsed JSON when it is JSON, else its text (empty body: null).
    pub body: serde_json::Value,
}

impl Response {
    /// The first header with this (lowercase) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendError {
    /// No answer within the client timeout.
    Timeout,
    /// The connection failed or was reset.
    Connection(String),
    /// The connection could not be opened: the request was never sent.
    NotSent(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Timeout => f.write_str("timeout"),
            SendError::Connection(e) => write!(f, "connection error: {e}"),
            SendError::NotSent(e) => write!(f, "could not connect: {e}"),
        }
    }
}

/// Sends requests to one org, reusing connections.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// For answers read as they arrive (export files): no limit on the whole transfer,
    /// only on each wait for data.
    streaming: reqwest::Client,
    credentials: Credentials,
}

/// An answer whose body is read as it arrives.
#[derive(Debug)]
pub(crate) struct Streaming {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    response: reqwest::Response,
}

impl Streaming {
    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Vec<u8>>, SendError> {
        match self.response.chunk().await {
            Ok(chunk) => Ok(chunk.map(|c| c.to_vec())),
            Err(e) => Err(classify(&e)),
        }
    }

    /// Reads the whole body (error answers, retries).
    pub(crate) async fn into_response(self) -> Result<Response, SendError> {
        let bytes = self.response.bytes().await.map_err(|e| classify(&e))?;
        let kind = self
            .headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default();
        let body = if self.status < 300 && kind.starts_with("text/csv") {
            parse_csv(&bytes)
        } else if self.status < 300 && (kind.contains("jsonlines") || kind.contains("ndjson")) {
            parse_lines(&bytes)
        } else {
            parse_body(&bytes)
        };
        Ok(Response {
            status: self.status,
            headers: self.headers,
            body,
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.credentials.host)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `credentials` with a per-request `timeout`.
    pub(crate) fn new(
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, CredentialsError> {
        // One process-wide TLS provider; a second install attempt is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = || {
            reqwest::Client::builder()
                .tls_backend_rustls()
                .gzip(true)
                .connect_timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(64)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("gladly-runner/", env!("CARGO_PKG_VERSION")))
        };
        let build = |b: reqwest::ClientBuilder| {
            b.build()
                .map_err(|e| CredentialsError(format!("cannot build the HTTP client: {e}")))
        };
        let http = build(builder().timeout(timeout))?;
        let streaming = build(builder().read_timeout(timeout))?;
        Ok(Client {
            http,
            streaming,
            credentials,
        })
    }

    /// The org's address.
    pub(crate) fn host(&self) -> &str {
        &self.credentials.host
    }

    /// Sends one request and reads the whole answer.
    pub(crate) async fn send(&self, request: &RenderedRequest) -> Result<Response, SendError> {
        self.start(&self.http, request).await?.into_response().await
    }

    /// Sends one request and returns as soon as the answer's head arrives; the body is then
    /// read piece by piece, however long it is.
    pub(crate) async fn open(&self, request: &RenderedRequest) -> Result<Streaming, SendError> {
        self.start(&self.streaming, request).await
    }

    async fn start(
        &self,
        http: &reqwest::Client,
        request: &RenderedRequest,
    ) -> Result<Streaming, SendError> {
        let url = format!("{}{}", self.credentials.host, request.path_and_query);
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .expect("catalog methods are valid HTTP methods");
        let mut builder = http
            .request(method, url)
            .basic_auth(&self.credentials.username, Some(&self.credentials.token))
            .header("accept", "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(Streaming {
            status,
            headers,
            response,
        })
    }
}

fn classify(e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::NotSent(chain(e))
    } else if e.is_timeout() {
        SendError::Timeout
    } else {
        SendError::Connection(chain(e))
    }
}

/// The error and its causes (reset, refused, DNS); never the credentials.
fn chain(e: &reqwest::Error) -> String {
    {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
}

/// A CSV answer (reports) as a list of objects keyed by the header; falls back to text.
fn parse_csv(bytes: &[u8]) -> serde_json::Value {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let Ok(header) = reader.headers().cloned() else {
        return parse_body(bytes);
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else {
            return parse_body(bytes);
        };
        let row: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(record.iter())
            .map(|(k, v)| {
                (
                    k.trim_start_matches('\u{feff}').to_owned(),
                    serde_json::Value::from(v),
                )
            })
            .collect();
        rows.push(serde_json::Value::Object(row));
    }
    serde_json::Value::Array(rows)
}

/// A JSON Lines answer (events, export files) as a list; falls back to text.
fn parse_lines(bytes: &[u8]) -> serde_json::Value {
    let mut items = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(line) {
            Ok(v) => items.push(v),
            Err(_) => return parse_body(bytes),
        }
    }
    serde_json::Value::Array(items)
}

fn parse_body(bytes: &[u8]) -> serde_json::Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(host: &str) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| match name {
            "GLADLY_HOST" => Some(host.to_owned()),
            "GLADLY_USERNAME" => Some("ops@example.com".to_owned()),
            "GLADLY_API_TOKEN" => Some("tok-123".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn hosts_are_checked_and_normalised() {
        let ok = Credentials::from_vars(vars("https://acme.gladly.com/")).unwrap();
        assert_eq!(ok.host(), "https://acme.gladly.com");
        assert!(Credentials::from_vars(vars("http://127.0.0.1:8080")).is_ok());
        assert!(Credentials::from_vars(vars("http://localhost:8080")).is_ok());
        assert!(Credentials::from_vars(vars("http://[::1]:8080")).is_ok());
        let plain = Credentials::from_vars(vars("http://acme.gladly.com")).unwrap_err();
        assert!(plain.0.contains("plain http"), "{plain}");
        let path = Credentials::from_vars(vars("https://acme.gladly.com/api/v1")).unwrap_err();
        assert!(path.0.contains("just the org's address"), "{path}");
        let junk = Credentials::from_vars(vars("acme.gladly.com")).unwrap_err();
        assert!(junk.0.contains("is not a URL"), "{junk}");
    }

    #[test]
    fn missing_variables_are_named() {
        let err = Credentials::from_vars(|_| None).unwrap_err();
        assert!(err.0.starts_with("`GLADLY_HOST` is not set"), "{err}");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Credentials::from_vars(vars("https://acme.gladly.com")).unwrap();
        let text = format!("{c:?}");
        assert!(
            !text.contains("tok-123") && text.contains("<hidden>"),
            "{text}"
        );
    }

    #[test]
    fn bodies_parse_as_json_or_text() {
        assert_eq!(parse_body(b""), serde_json::Value::Null);
        assert_eq!(parse_body(b"{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(parse_body(b"a,b\n1,2\n"), serde_json::json!("a,b\n1,2\n"));
    }

    #[test]
    fn reports_and_json_lines_read_as_lists() {
        assert_eq!(
            parse_csv(b"\xef\xbb\xbfa,b\n1,\"x,y\"\n"),
            serde_json::json!([{"a": "1", "b": "x,y"}])
        );
        assert_eq!(
            parse_lines(b"{\"a\":1}\n\n{\"a\":2}\n"),
            serde_json::json!([{"a": 1}, {"a": 2}])
        );
        assert_eq!(parse_lines(b"{oops\n"), serde_json::json!("{oops\n"));
    }
}
