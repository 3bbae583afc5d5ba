//! The one step interpreter: a row's walk through the manifest's steps, as a pure state
//! machine. Given the row's context it names the next request (or says the row is over);
//! given that request's answer — or "planned, not sent" — it applies the step's rules,
//! captures and outcome labels and moves on. It never sends, waits, writes or stops the
//! run: apply, the dry runs (offline and online) drive it and do those things themselves.

use std::collections::BTreeMap;

use minijinja::Value;

use super::client::Response;
use super::render::{
    BaseContext, RenderedRequest, RowContext, render_message, render_request, step_applies,
};
use super::send::gladly_error;
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Action, Manifest, Request, Rule, Step, StepKind};
use crate::results::{ResultKind, RowResult};
use crate::source::Row;
use crate::template;

/// A request the walk wants sent (or planned).
pub(crate) struct Pending<'m> {
    /// The step's index.
    pub(crate) index: usize,
    pub(crate) step: &'m Step,
    pub(crate) request: &'m Request,
    pub(crate) rendered: RenderedRequest,
}

impl Pending<'_> {
    /// A request that may change something: not a GET, nor a report `POST` (a read).
    pub(crate) fn is_write(&self) -> bool {
        self.request.operation.mutates
    }
}

/// What the walk wants next.
pub(crate) enum Next<'m> {
    /// Send (or plan) this request, then call [`Walk::answered`] or [`Walk::planned`].
    Send(Pending<'m>),
    /// The row is over; its result says how.
    End,
    /// The row is over and a rule (or a decision step) said to abort the whole run.
    Abort,
}

/// One row's place in the steps.
pub(crate) struct Walk<'m> {
    manifest: &'m Manifest,
    index: usize,
    /// A dry run: writes are planned, not sent, and success labels wait for a real answer.
    planning: bool,
    ctx: RowContext,
}

impl<'m> Walk<'m> {
    /// The row as templates see it (a shared value: cloning it copies no cell).
    pub(crate) fn row_value(&self) -> minijinja::Value {
        self.ctx.row_value()
    }

    /// Starts a row: checks its required columns and evaluates the manifest's `vars`.
    /// `result` is marked planned (a dry run) or done until a step says otherwise.
    pub(crate) fn begin(
        manifest: &'m Manifest,
        base: &BaseContext,
        row: Row,
        result: &mut RowResult,
        planning: bool,
    ) -> Result<Self, RowFailure> {
        result.result = if planning {
            ResultKind::Planned
        } else {
            ResultKind::Done
        };
        result.result.as_str().clone_into(&mut result.outcome);
        check_required(manifest, &row)?;
        let mut ctx = RowContext::new(base, row.values);
        ctx.eval_vars(manifest)?;
        Ok(Walk {
            manifest,
            index: 0,
            planning,
            ctx,
        })
    }

    /// The next request to send, or the end of the row.
    pub(crate) fn next(&mut self, result: &mut RowResult) -> Result<Next<'m>, RowFailure> {
        let steps = self.manifest.steps();
        while let Some(step) = steps.get(self.index) {
            if !step_applies(step, &self.ctx)? {
                self.index += 1;
                continue;
            }
            result.step.clone_from(&step.name);
            return match &step.kind {
                StepKind::Decide(action) => {
                    self.index = steps.len();
                    decide_row(result, step, None, *action, &self.ctx);
                    Ok(ended(*action))
                }
                StepKind::Request(request) => Ok(Next::Send(Pending {
                    index: self.index,
                    step,
                    request,
                    rendered: render_request(step, request, &self.ctx)?,
                })),
            };
        }
        Ok(Next::End)
    }

    /// The request was planned, not sent: later steps see the captures a plan can know.
    pub(crate) fn planned(
        &mut self,
        pending: &Pending<'m>,
        result: &mut RowResult,
    ) -> Result<Next<'m>, RowFailure> {
        let captures = planned_captures(&pending.step.name, pending.request, &self.ctx);
        self.ctx.set_step(&pending.step.name, captures);
        self.index = pending.index + 1;
        self.next(result)
    }

    /// The request was answered with `response` after `attempts`; `confirmed` when a
    /// create sent again found its own id taken (the earlier attempt landed). Applies the
    /// step's rules and captures; `Err` fails the row.
    pub(crate) fn answered(
        &mut self,
        pending: &Pending<'m>,
        response: &Response,
        attempts: u32,
        confirmed: bool,
        result: &mut RowResult,
    ) -> Result<Next<'m>, RowFailure> {
        let (step, request) = (pending.step, pending.request);
        result.attempts += attempts;
        result.http_status = Some(response.status);
        self.ctx.set_response(response_value(response));
        // A retried create answered "id taken": the earlier attempt's write landed, so the
        // step succeeded; the manifest's 409 rules are for real conflicts.
        let rule = if confirmed {
            result.detail = format!(
                "created by an earlier attempt whose answer was lost (HTTP {} on retry)",
                response.status
            );
            None
        } else {
            matching_rule(request, response.status, &self.ctx, &step.name)?
        };
        if response.status >= 500 && !confirmed && rule.is_none() {
            let (_, detail) = gladly_error(response);
            return Err(RowFailure {
                step: step.name.clone(),
                code: FailureCode::Network,
                detail: format!(
                    "HTTP {} after {attempts} attempts: {detail}",
                    response.status
                ),
                span: None,
            });
        }
        // A redirect is not success: a write that was redirected did not happen here.
        let status_ok = confirmed || response.status < 300;
        let action = rule.map_or(
            if status_ok {
                Action::Continue
            } else {
                Action::Fail
            },
            |r| r.action,
        );
        if matches!(action, Action::Continue | Action::Goto(_)) {
            let captured = captures(step, request, &self.ctx)?;
            self.ctx.set_step(&step.name, captured);
            if let Some(label) = rule.and_then(|r| r.outcome.clone()).or_else(|| {
                (status_ok && !self.planning)
                    .then(|| step.outcome.clone())
                    .flatten()
            }) {
                result.outcome = label;
            }
        }
        match action {
            Action::Continue => {
                self.index = pending.index + 1;
                self.next(result)
            }
            Action::Goto(target) => {
                self.index = target;
                self.next(result)
            }
            Action::Retry => Err(retry_exhausted(step, response)),
            Action::Skip | Action::Fail | Action::Abort => {
                self.index = self.manifest.steps().len();
                decide_row(result, step, rule, action, &self.ctx);
                if action != Action::Skip && (300..400).contains(&response.status) {
                    FailureCode::Redirect
                        .as_str()
                        .clone_into(&mut result.error_code);
                    if rule.and_then(|r| r.message.as_ref()).is_none() {
                        let to = response.header("location").unwrap_or("no Location header");
                        result.detail = format!("HTTP {} to {to}", response.status);
                    }
                } else if action != Action::Skip && response.status >= 400 {
                    // Gladly's code is recorded even when a rule words the detail itself.
                    let (code, detail) = gladly_error(response);
                    result.error_code = code;
                    if rule.and_then(|r| r.message.as_ref()).is_none() {
                        result.detail = detail;
                    }
                }
                Ok(ended(action))
            }
        }
    }

    /// Ends the walk: whatever ended the row, what its steps captured is recorded (the
    /// customer a find step matched before a skip, the assignee read before a refused
    /// close). Gives back the context (for the row's output records).
    pub(crate) fn finish(self, result: &mut RowResult) -> RowContext {
        result.captures = self.ctx.capture_texts(self.manifest);
        self.ctx
    }
}

fn ended<'m>(action: Action) -> Next<'m> {
    if action == Action::Abort {
        Next::Abort
    } else {
        Next::End
    }
}

/// Ends the row by a decision (a decide step, or a rule).
fn decide_row(
    result: &mut RowResult,
    step: &Step,
    rule: Option<&Rule>,
    action: Action,
    ctx: &RowContext,
) {
    let (kind, word) = match action {
        Action::Skip => (ResultKind::Skipped, "skipped"),
        _ => (ResultKind::Rejected, "rejected"),
    };
    result.result = kind;
    // A request step's own `outcome` labels its success; it ends the row here only through
    // a rule or an error answer, so only a decision step's label and message apply.
    let decision = matches!(step.kind, StepKind::Decide(_));
    let label = rule
        .and_then(|r| r.outcome.clone())
        .or_else(|| step.outcome.clone().filter(|_| decision));
    result.outcome = label.unwrap_or_else(|| word.to_owned());
    let message = rule
        .and_then(|r| r.message.as_ref())
        .or(step.message.as_ref().filter(|_| decision));
    result.detail = message.map(|m| render_message(m, ctx)).unwrap_or_default();
}

/// A `retry` rule ran out of attempts (the policy already retried the request).
fn retry_exhausted(step: &Step, response: &Response) -> RowFailure {
    let (code, detail) = gladly_error(response);
    RowFailure {
        step: step.name.clone(),
        code: if code.is_empty() {
            FailureCode::Retry
        } else {
            FailureCode::Http
        },
        detail: format!("still {} after retrying: {detail}", response.status),
        span: None,
    }
}

/// The first rule that matches the status (and whose `when` holds).
fn matching_rule<'m>(
    request: &'m Request,
    status: u16,
    ctx: &RowContext,
    step: &str,
) -> Result<Option<&'m Rule>, RowFailure> {
    for rule in &request.rules {
        if !rule.status.matches(status) {
            continue;
        }
        let applies = match &rule.when {
            None => true,
            Some(t) => t
                .is_true(&ctx.value())
                .map_err(|e| RowFailure::template(step, &e))?,
        };
        if applies {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

fn response_value(response: &Response) -> Value {
    let headers: BTreeMap<String, String> = response.headers.iter().cloned().collect();
    let mut map = BTreeMap::new();
    map.insert("status".to_owned(), Value::from(response.status));
    map.insert("headers".to_owned(), Value::from(headers));
    map.insert("body".to_owned(), template::from_json(&response.body));
    Value::from(map)
}

fn captures(step: &Step, request: &Request, ctx: &RowContext) -> Result<Value, RowFailure> {
    let mut values = BTreeMap::new();
    let scope = ctx.value();
    let env = ctx.env();
    for (name, t) in &request.capture {
        let value = t.eval_in(&scope, &env).map_err(|e| RowFailure {
            step: step.name.clone(),
            code: FailureCode::Capture,
            detail: format!("capture `{name}`: {}", e.reason()),
            span: Some(e.span),
        })?;
        values.insert(name.clone(), value);
    }
    Ok(Value::from(values))
}

/// Captures a dry run can know: those that do not read the response (a stable id, a row
/// value). The others stay unknown.
fn planned_captures(step: &str, request: &Request, ctx: &RowContext) -> Value {
    let mut known = BTreeMap::new();
    let value = ctx.value();
    let env = ctx.env();
    for (name, template) in &request.capture {
        let captured = if template.reads("response") {
            None
        } else {
            template.eval_in(&value, &env).ok()
        };
        known.insert(
            name.clone(),
            captured.unwrap_or_else(|| template::unknown(&format!("{step}.{name}"))),
        );
    }
    Value::from(known)
}

/// A row whose `input.require` columns are blank fails before any step.
pub(crate) fn check_required(manifest: &Manifest, row: &Row) -> Result<(), RowFailure> {
    for column in &manifest.input().require {
        let blank = match row.values.get(column) {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if blank {
            return Err(RowFailure::input(format!(
                "required column `{column}` is empty"
            )));
        }
    }
    Ok(())
}
