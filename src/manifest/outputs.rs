//! Validation of the read side: rows from the API, output files and aggregates.

use super::model::{
    Aggregate, AggregateColumn, ApiSource, Column, ColumnValue, InputFormat, Interval, Measure,
    Output, OutputFormat, SpanSpec, Step, StepKind,
};
use super::raw::{Entries, RawAggregate, RawInput, RawMeasure, RawOutput, RawStep, Spanned};
use super::validate::{Scope, Validator};
use crate::catalog::ResponseKind;
use crate::diagnostic::{Span, did_you_mean};
use crate::template::Template;

impl Validator<'_> {
    /// `input.api` / `input.export`: the source and the format of its rows.
    pub(super) fn check_api_input(&mut self, raw: &RawInput) -> Option<(ApiSource, InputFormat)> {
        if let Some(export) = &raw.export {
            let once = Scope::once();
            let missing = |v: &mut Self, key: &str| {
                if !v.spoiled(export.span, &[key]) {
                    v.error(format!("`input.export` needs `{key}`"), export.span)
                        .notes
                        .push(
                            "write `export: { job: latest, file: conversation_items.jsonl }`"
                                .into(),
                        );
                }
            };
            let job = if let Some(t) = &export.job {
                self.template(t, once)
            } else {
                missing(self, "job");
                None
            };
            let file = if let Some(t) = &export.file {
                self.template(t, once)
            } else {
                missing(self, "file");
                None
            };
            let format = match export.file.as_ref().map(|f| f.value.as_str()) {
                Some(name) if name.to_ascii_lowercase().ends_with(".csv") => {
                    InputFormat::Csv { delimiter: b',' }
                }
                Some(name) if name.to_ascii_lowercase().ends_with(".json") => InputFormat::Json,
                _ => InputFormat::Jsonl,
            };
            return Some((
                ApiSource::Export {
                    job: Box::new(job?),
                    file: Box::new(file?),
                },
                format,
            ));
        }
        let api = raw.api.as_ref()?;
        let step = RawStep {
            name: Some(Spanned {
                value: "input".into(),
                span: api.span,
            }),
            when: None,
            request: api.request.clone(),
            operation: api.operation.clone(),
            params: api.params.clone(),
            query: api.query.clone(),
            headers: Entries::default(),
            body: api.body.clone(),
            idempotent: None,
            capture: Entries::default(),
            on: Entries::default(),
            action: None,
            outcome: None,
            message: None,
            span: api.span,
        };
        if step.request.is_some() == step.operation.is_some() {
            if !self.spoiled(api.span, &["request", "operation"]) {
                self.error(
                    "`input.api` needs exactly one of `request` or `operation`",
                    api.span,
                )
                .notes
                .push("for example `api: GET /api/v1/topics`".into());
            }
            return None;
        }
        self.in_input = true;
        let request = self.check_request(0, &step, &[], true);
        self.in_input = false;
        let request = request?;
        let at = step
            .request
            .as_ref()
            .or(step.operation.as_ref())
            .map_or(api.span, |s| s.span);
        if request.operation.mutates {
            self.error(
                format!(
                    "`{}` changes data: rows can only be read",
                    request.operation.id
                ),
                at,
            )
            .label = Some("use a list, a report, the events or an export file".into());
            return None;
        }
        let format = match request.operation.response {
            ResponseKind::Json => InputFormat::Json,
            ResponseKind::Csv => InputFormat::Csv { delimiter: b',' },
            ResponseKind::JsonLines => InputFormat::Jsonl,
            _ => {
                self.error(
                    format!("`{}` does not answer rows", request.operation.id),
                    at,
                )
                .label = Some("rows come from a JSON list, a CSV report or JSON Lines".into());
                return None;
            }
        };
        let step = Step {
            name: "input".into(),
            span: api.span,
            when: None,
            kind: StepKind::Request(Box::new(request)),
            outcome: None,
            message: None,
        };
        Some((ApiSource::Request(Box::new(step)), format))
    }

    /// The scope of templates that run after a row's steps.
    fn after_steps(&self, item: bool) -> Scope {
        Scope {
            step: Some(self.raw.steps.len()),
            item,
            ..Scope::default()
        }
    }

    /// A path template (params and `job.name` only).
    fn out_path(
        &mut self,
        path: Option<&Spanned<String>>,
        span: Span,
        what: &str,
    ) -> Option<Template> {
        let Some(path) = path else {
            if !self.spoiled(span, &["path"]) {
                self.error(format!("{what} needs a `path`"), span)
                    .notes
                    .push("for example `path: exports/{{ job.name }}.csv`".into());
            }
            return None;
        };
        self.template(path, Scope::once())
    }

    pub(super) fn check_outputs(&mut self) -> Vec<Output> {
        let raw = self.raw;
        raw.outputs
            .iter()
            .filter_map(|o| self.check_output(o))
            .collect()
    }

    fn check_output(&mut self, raw: &RawOutput) -> Option<Output> {
        let path = self.out_path(raw.path.as_ref(), raw.span, "an output");
        let when = raw
            .when
            .as_ref()
            .and_then(|w| self.template(w, Scope::once()));
        let format = if let Some(f) = &raw.format {
            match f.value.as_str() {
                "csv" => Some(OutputFormat::Csv),
                "jsonl" => Some(OutputFormat::Jsonl),
                "json" => Some(OutputFormat::Json),
                other => {
                    let hint = did_you_mean(other, ["csv", "jsonl", "json"]);
                    let d = self.error(format!("unknown output format `{other}`"), f.span);
                    Self::hint(d, hint);
                    if hint.is_none() {
                        d.label = Some("use `csv`, `jsonl` or `json`".into());
                    }
                    None
                }
            }
        } else {
            {
                if let Some(p) = &raw.path
                    && !p.value.contains("{{")
                    && OutputFormat::from_path(std::path::Path::new(&p.value)).is_none()
                {
                    self.error(format!("cannot tell the format of `{}`", p.value), p.span)
                        .label =
                        Some("end the path in .csv, .jsonl or .json, or add `format:`".into());
                }
                None
            }
        };
        let each = raw
            .each
            .as_ref()
            .and_then(|e| self.template(e, self.after_steps(false)));
        let scope = self.after_steps(raw.each.is_some());
        let filter = raw.filter.as_ref().and_then(|w| self.template(w, scope));
        let mut columns: Vec<Column> = Vec::new();
        for column in &raw.columns {
            if columns.iter().any(|c| c.header == column.header.value) {
                self.error(
                    format!("column `{}` appears twice", column.header.value),
                    column.header.span,
                );
                continue;
            }
            let value = self.column_value(&column.value, scope, raw.each.is_none());
            if let Some(value) = value {
                columns.push(Column {
                    header: column.header.value.clone(),
                    value,
                });
            }
        }
        let effective = format.or_else(|| {
            raw.path
                .as_ref()
                .filter(|p| !p.value.contains("{{"))
                .and_then(|p| OutputFormat::from_path(std::path::Path::new(&p.value)))
        });
        if raw.columns.is_empty() && effective == Some(OutputFormat::Csv) {
            self.error("a CSV output needs `columns`", raw.span)
                .notes
                .push("list them: `columns: [id, name]`, or `\"*\"` for every input column".into());
        }
        Some(Output {
            when,
            path: path?,
            dir: self.dir.clone(),
            format,
            each,
            filter,
            columns,
        })
    }

    /// A dotted path, `*`, or a template.
    fn column_value(
        &mut self,
        value: &Spanned<String>,
        scope: Scope,
        star: bool,
    ) -> Option<ColumnValue> {
        let text = value.value.trim();
        if text.contains("{{") || text.contains("{%") {
            return self.template(value, scope).map(ColumnValue::Template);
        }
        if text == "*" {
            if !star {
                self.error(
                    "`*` copies input columns: it cannot be used with `each`",
                    value.span,
                );
                return None;
            }
            return Some(ColumnValue::AllInput);
        }
        if text.is_empty() || text.split('.').any(str::is_empty) {
            self.error(format!("`{text}` is not a path"), value.span)
                .label =
                Some("write a dotted path such as `content.from`, or a `{{ template }}`".into());
            return None;
        }
        Some(ColumnValue::Path(
            text.split('.').map(str::to_owned).collect(),
        ))
    }

    pub(super) fn check_aggregates(&mut self) -> Vec<Aggregate> {
        let raw = self.raw;
        raw.aggregates
            .iter()
            .filter_map(|a| self.check_aggregate(a))
            .collect()
    }

    fn check_aggregate(&mut self, raw: &RawAggregate) -> Option<Aggregate> {
        let path = self.out_path(raw.path.as_ref(), raw.span, "an aggregate");
        let scope = self.after_steps(false);
        let once = Scope::once();
        let filter = raw.filter.as_ref().and_then(|w| self.template(w, scope));
        let time = raw
            .time
            .as_ref()
            .and_then(|t| self.column_value(t, scope, false));
        let interval = raw.interval.as_ref().and_then(|i| {
            let minutes = match &i.minutes {
                Some(m) if m.value > 0 && 1440 % m.value == 0 => u32::try_from(m.value).ok(),
                Some(m) => {
                    self.error(
                        format!("an interval of {} minutes does not divide a day", m.value),
                        m.span,
                    )
                    .label = Some("use for example 15, 30, 60 or 1440".into());
                    None
                }
                None => {
                    self.error("`interval` needs `minutes`", raw.span);
                    None
                }
            };
            let zone = i.zone.as_ref().and_then(|z| self.template(z, once));
            if let Some(z) = &i.zone
                && !z.value.contains("{{")
                && z.value.parse::<chrono_tz::Tz>().is_err()
            {
                let d = self.error(format!("`{}` is not an IANA time zone", z.value), z.span);
                let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
                match crate::diagnostic::did_you_mean(&z.value, names) {
                    Some(hint) => d.label = Some(format!("did you mean `{hint}`?")),
                    None => d.label = Some("for example `America/Los_Angeles` or `UTC`".into()),
                }
            }
            Some(Interval {
                minutes: minutes?,
                zone,
            })
        });
        let mut columns = Vec::new();
        let mut needs_time = None;
        for entries in &raw.columns {
            for (header, measure) in &entries.0 {
                if let Some(m) = self.check_measure(header, measure, raw, scope) {
                    if matches!(m, Measure::Span(_)) {
                        needs_time.get_or_insert(header.span);
                    }
                    columns.push(AggregateColumn {
                        header: header.value.clone(),
                        measure: m,
                    });
                }
            }
        }
        if raw.interval.is_some() {
            needs_time.get_or_insert(raw.span);
        }
        if let (Some(at), None) = (needs_time, &raw.time) {
            self.error("intervals and spans need `time`, each row's instant", at)
                .notes
                .push(
                    "add `time: timestamp` (a dotted path or a template) to the aggregate".into(),
                );
        }
        if raw.columns.is_empty() && !self.spoiled(raw.span, &["columns"]) {
            self.error("an aggregate needs `columns`", raw.span)
                .notes
                .push("for example `columns: [{ Rows: { count: true } }]`".into());
        }
        Some(Aggregate {
            path: path?,
            dir: self.dir.clone(),
            filter,
            time,
            interval,
            columns,
        })
    }

    fn check_measure(
        &mut self,
        header: &Spanned<String>,
        raw: &RawMeasure,
        aggregate: &RawAggregate,
        scope: Scope,
    ) -> Option<Measure> {
        let once = Scope::once();
        let given = [
            raw.group.is_some(),
            raw.interval.is_some(),
            raw.value.is_some(),
            raw.count.is_some(),
            raw.sum.is_some(),
            raw.span.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.error(
                format!("column `{}` needs exactly one of `group`, `interval`, `value`, `count`, `sum` or `span`", header.value),
                header.span,
            );
            return None;
        }
        if let Some(g) = &raw.group {
            return self.column_value(g, scope, false).map(Measure::Group);
        }
        if let Some(i) = &raw.interval {
            if aggregate.interval.is_none() {
                self.error("this aggregate has no `interval`", i.span).label =
                    Some("add `interval: { minutes: 30, zone: UTC }`".into());
            }
            return match i.value.as_str() {
                "start" => Some(Measure::Interval { start: true }),
                "end" => Some(Measure::Interval { start: false }),
                other => {
                    self.error(format!("`interval: {other}`: use `start` or `end`"), i.span);
                    None
                }
            };
        }
        if let Some(v) = &raw.value {
            return self.template(v, once).map(Measure::Value);
        }
        if let Some(c) = &raw.count {
            if c.value.trim() == "true" {
                return Some(Measure::Count(None));
            }
            return self.template(c, scope).map(|t| Measure::Count(Some(t)));
        }
        if let Some(s) = &raw.sum {
            return self.column_value(s, scope, false).map(Measure::Sum);
        }
        let span = raw.span.as_ref()?;
        let need = |v: &mut Self, what: &str| {
            v.error(
                format!("span `{}` needs `{what}`", header.value),
                header.span,
            );
        };
        let key = if let Some(k) = &span.key {
            self.column_value(k, scope, false)
        } else {
            need(self, "key");
            None
        };
        let start = if let Some(t) = &span.start {
            self.template(t, scope)
        } else {
            need(self, "start");
            None
        };
        let end = if let Some(t) = &span.end {
            self.template(t, scope)
        } else {
            need(self, "end");
            None
        };
        let until = span.until.as_ref().and_then(|u| self.template(u, once));
        let unit_seconds = match span.unit.as_ref().map(|u| (u.value.as_str(), u.span)) {
            None | Some(("minutes", _)) => 60.0,
            Some(("seconds", _)) => 1.0,
            Some(("hours", _)) => 3600.0,
            Some((other, at)) => {
                let hint = did_you_mean(other, ["seconds", "minutes", "hours"]);
                let d = self.error(format!("unknown unit `{other}`"), at);
                Self::hint(d, hint);
                return None;
            }
        };
        Some(Measure::Span(Box::new(SpanSpec {
            key: key?,
            start: start?,
            end: end?,
            until,
            unit_seconds,
        })))
    }
}
