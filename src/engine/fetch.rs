//! Rows from the API: the input request (a list, a report, the events stream) or a data
//! export job's file, sent once under the limiter and the retry policy, its body streamed
//! into the row reader so a multi-gigabyte file never sits in memory.

use std::io;

use tokio::sync::mpsc;

use super::client::{Client, Response, Streaming};
use super::error::ExecError;
use super::limiter::Limiter;
use super::render::{BaseContext, RenderedRequest, RowContext, render_request};
use super::send::{self, Answer, Outgoing, Read, Verdict, gladly_error};
use crate::catalog::{Method, RateClass, encode_segment};
use crate::manifest::{ApiSource, InputFormat, Manifest, StepKind};
use crate::policy::retry::RetryPolicy;
use crate::source::{self, Format, RowReader};
use crate::template::Template;

/// The request that gives a job's rows, rendered with the run's params; for an export
/// with `job: latest`, the job is looked up first. `None` when the input is a file.
pub(super) async fn input_request(
    manifest: &Manifest,
    base: &BaseContext,
    client: Option<&Client>,
    limiter: &Limiter,
    retry: &RetryPolicy,
) -> Result<Option<(RenderedRequest, RateClass)>, ExecError> {
    let Some(api) = &manifest.input().api else {
        return Ok(None);
    };
    let ctx = RowContext::new(base, serde_json::Map::new());
    match api {
        ApiSource::Request(step) => {
            let StepKind::Request(request) = &step.kind else {
                unreachable!("the input step is a request")
            };
            let rendered = render_request(step, request, &ctx)
                .map_err(|f| ExecError::Input(format!("the input request: {}", f.detail)))?;
            Ok(Some((rendered, request.operation.rate_class)))
        }
        ApiSource::Export { job, file } => {
            let path = export_path(job, file, &ctx.value(), client, limiter, retry).await?;
            Ok(Some((
                RenderedRequest {
                    method: Method::Get,
                    path_and_query: path,
                    headers: Vec::new(),
                    body: None,
                },
                RateClass::Default,
            )))
        }
    }
}

/// The path of an export job's file; `latest` (or nothing) picks the most recently
/// updated COMPLETED job.
///
/// # Errors
/// When a template fails, the file name is empty, or no job is completed.
pub(super) async fn export_path(
    job: &Template,
    file: &Template,
    ctx: &minijinja::Value,
    client: Option<&Client>,
    limiter: &Limiter,
    retry: &RetryPolicy,
) -> Result<String, ExecError> {
    let render = |t: &Template, what: &str| {
        t.render(ctx)
            .map(|s| s.trim().to_owned())
            .map_err(|e| ExecError::Input(format!("export {what}: {}", e.reason())))
    };
    let mut job = render(job, "job")?;
    let file = render(file, "file")?;
    if file.is_empty() {
        return Err(ExecError::Input("the export file name is empty".into()));
    }
    if job.is_empty() || job == "latest" {
        job = match client {
            Some(client) => latest_job(client, limiter, retry).await?,
            None => "<latest completed job>".to_owned(),
        };
    }
    Ok(format!(
        "/api/v1/export/jobs/{}/files/{}",
        encode_segment(&job),
        encode_segment(&file)
    ))
}

/// The most recently updated COMPLETED export job.
async fn latest_job(
    client: &Client,
    limiter: &Limiter,
    retry: &RetryPolicy,
) -> Result<String, ExecError> {
    let request = RenderedRequest {
        method: Method::Get,
        path_and_query: "/api/v1/export/jobs?status=COMPLETED".to_owned(),
        headers: Vec::new(),
        body: None,
    };
    let response = send::read(client, limiter, retry, &request, Read::Whole)
        .await
        .map_err(|e| ExecError::Input(format!("listing export jobs failed: {e}")))?;
    if response.status >= 300 {
        let (_, detail) = gladly_error(&response);
        return Err(answered("listing export jobs", &response, &detail));
    }
    let latest = response
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j.get("status").and_then(|s| s.as_str()) == Some("COMPLETED"))
        .filter_map(|j| {
            let id = j.get("id")?.as_str()?;
            let at = j
                .get("updatedAt")
                .and_then(|u| u.as_str())
                .unwrap_or_default();
            Some((at.to_owned(), id.to_owned()))
        })
        .max();
    match latest {
        Some((at, id)) => {
            tracing::info!(job = %id, updated_at = %at, "latest completed export job");
            Ok(id)
        }
        None => Err(ExecError::Input(
            "there is no COMPLETED export job (GET /api/v1/export/jobs?status=COMPLETED): \
             give a job id with `input.export.job`"
                .into(),
        )),
    }
}

fn answered(what: &str, response: &Response, detail: &str) -> ExecError {
    let hint = match response.status {
        401 | 403 => ": check GLADLY_USERNAME and GLADLY_API_TOKEN",
        _ => "",
    };
    ExecError::Input(format!(
        "{what} answered {}: {detail}{hint}",
        response.status
    ))
}

/// Sends the input request (retrying 429s, 5xx and network errors like any read) and
/// streams its body into a row reader of `format`.
pub(super) async fn open_stream(
    client: &Client,
    limiter: &Limiter,
    retry: &RetryPolicy,
    request: &RenderedRequest,
    class: RateClass,
    format: InputFormat,
) -> Result<RowReader, ExecError> {
    let what = format!("{} {}", request.method.as_str(), request.path_and_query);
    let streaming = open_with_retries(client, limiter, retry, request, class, &what).await?;
    let (tx, rx) = mpsc::channel::<io::Result<Vec<u8>>>(16);
    tokio::spawn(pump(streaming, tx));
    let reader = ChannelReader {
        rx,
        chunk: Vec::new(),
        at: 0,
    };
    let format = match format {
        InputFormat::Csv { delimiter } => Format::Csv { delimiter },
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Json => Format::JsonArray,
    };
    let name = what.clone();
    tokio::task::spawn_blocking(move || source::from_reader(&name, Box::new(reader), format))
        .await
        .map_err(|e| ExecError::Input(format!("{what}: {e}")))?
        .map_err(|e| ExecError::Input(e.to_string()))
}

async fn open_with_retries(
    client: &Client,
    limiter: &Limiter,
    retry: &RetryPolicy,
    request: &RenderedRequest,
    class: RateClass,
    what: &str,
) -> Result<Streaming, ExecError> {
    let outgoing = Outgoing {
        request,
        class,
        safe: true,
        read: Read::Stream,
    };
    let exchange = send::exchange(client, limiter, retry, outgoing, &send::Quiet).await;
    match (exchange.verdict, exchange.answer) {
        (_, Ok(Answer::Streaming(streaming))) => Ok(streaming),
        (Verdict::Accept | Verdict::Unauthorized(_), Ok(Answer::Whole(response))) => {
            let (_, detail) = gladly_error(&response);
            Err(answered(what, &response, &detail))
        }
        (Verdict::Accept | Verdict::Unauthorized(_) | Verdict::Halted, Err(e)) => {
            Err(ExecError::Input(format!("{what} failed: {e}")))
        }
        (Verdict::GaveUp(reason) | Verdict::Unknown(reason), _) => Err(ExecError::Input(format!(
            "{what} failed after {} attempts: {reason}",
            exchange.attempts
        ))),
        (Verdict::Halted, Ok(_)) => Err(ExecError::Input(format!("{what}: the run stopped"))),
    }
}

/// Moves the body's pieces to the reading thread as they arrive.
async fn pump(mut streaming: Streaming, tx: mpsc::Sender<io::Result<Vec<u8>>>) {
    loop {
        let next = match streaming.chunk().await {
            Ok(Some(chunk)) => Ok(chunk),
            Ok(None) => return,
            Err(e) => Err(io::Error::other(format!(
                "the download broke off: {e} (rows read so far are recorded; run the job again)"
            ))),
        };
        let failed = next.is_err();
        if tx.send(next).await.is_err() || failed {
            return;
        }
    }
}

/// A blocking reader over the pieces `pump` sends.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
