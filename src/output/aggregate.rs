//! `aggregates:`: counts, sums and spans between paired rows, by group and time interval.
//!
//! Each row is reduced (in parallel, by [`Spec::fact`]) to a [`Fact`]: its instant, group
//! values and what each measure sees. The [`Folder`] then takes the facts in input order,
//! one pass, constant work per fact (a span crossing intervals is split once it closes):
//! linear in the number of rows, memory proportional to the cells and the open spans.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Offset as _, TimeZone as _, Utc};
use chrono_tz::Tz;
use minijinja::Value;

use super::{cell_text, render_path};
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Aggregate, ColumnValue, Measure};
use crate::template;

/// An aggregate resolved for a run (path, zone and `until` rendered).
#[derive(Debug)]
pub(crate) struct Spec {
    index: usize,
    pub(super) path: PathBuf,
    headers: Vec<String>,
    zone: Tz,
    /// Interval length in milliseconds.
    interval_ms: Option<i64>,
    /// Values of `value:` columns.
    constants: Vec<Option<String>>,
    /// When open spans close, per column (`None`: the last row's time).
    until: Vec<Option<i64>>,
    /// "column `HEADER`" per column, made once: error messages name the column, and
    /// building the words for every row of a million cost an allocation per cell.
    labels: Vec<String>,
    /// Per column: for a span whose key is the same pure template as an earlier group
    /// column (`row.content.agentId or row.initiator.id` in both), that group's place
    /// among the groups, so the key is not worked out twice.
    key_is_group: Vec<Option<usize>>,
}

/// What one row contributes to an aggregate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fact {
    /// The row's instant (ms since the epoch), when the aggregate reads one.
    time: Option<i64>,
    /// The group values, in column order.
    groups: Vec<String>,
    /// Per column: what the row gives its measure.
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    None,
    Count(bool),
    Sum(Option<f64>),
    Span { key: String, start: bool, end: bool },
}

fn fail(what: &str, detail: &str) -> RowFailure {
    RowFailure {
        step: String::new(),
        code: FailureCode::Output,
        detail: format!("{what}: {detail}"),
        span: None,
    }
}

/// Parses an instant: RFC 3339 (Gladly's `2026-11-20T10:00:00.000Z`), or a date-time
/// without offset (a report's local times) read in `zone`.
pub(crate) fn parse_instant(text: &str, zone: Tz) -> Option<i64> {
    let text = text.trim();
    if let Some(t) = gladly_instant(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return zone
                .from_local_datetime(&t)
                .earliest()
                .map(|t| t.timestamp_millis());
        }
    }
    None
}

/// Gladly's own instants (`2026-11-20T10:00:00.000Z`, on every event and item), read
/// directly; `None` for anything else (other offsets, leap seconds, bad dates), which the
/// general parser then decides.
fn gladly_instant(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 24
        || [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (23, b'Z'),
        ]
        .iter()
        .any(|&(at, c)| b[at] != c)
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
        num(20, 23)?,
    )?;
    Some(date.and_time(time).and_utc().timestamp_millis())
}

/// For each column of `aggregate`: when it is a span whose key is a template written
/// exactly as an earlier group column's, and evaluated natively in full (so the same row
/// gives the same text), that group's place among the groups.
fn keys_of_groups(aggregate: &Aggregate) -> Vec<Option<usize>> {
    let mut groups: Vec<&str> = Vec::new();
    let pure = |t: &crate::template::Template| t.native().is_some_and(template::Expr::is_closed);
    aggregate
        .columns
        .iter()
        .map(|column| match &column.measure {
            Measure::Group(value) => {
                groups.push(match value {
                    ColumnValue::Template(t) if pure(t) => t.source(),
                    // Not shared: a path, or a template the engine evaluates.
                    _ => "",
                });
                None
            }
            Measure::Span(span) => match &span.key {
                ColumnValue::Template(t) if pure(t) => groups.iter().position(|g| *g == t.source()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A column value (path or template) as text.
fn text_of(
    value: &ColumnValue,
    ctx: &Value,
    env: &template::Env<'_>,
    what: &str,
) -> Result<String, RowFailure> {
    text_ref(value, ctx, env, what).map(std::borrow::Cow::into_owned)
}

/// [`text_of`], borrowed from the row or the template's value when it is text as it is:
/// most rows need the text only to read it, not to keep it.
fn text_ref<'a>(
    value: &'a ColumnValue,
    ctx: &Value,
    env: &template::Env<'a>,
    what: &str,
) -> Result<std::borrow::Cow<'a, str>, RowFailure> {
    use std::borrow::Cow;
    match value {
        ColumnValue::Path(path) => Ok(match env.row.value_at(path) {
            Some(serde_json::Value::String(s)) => Cow::Borrowed(s.as_str()),
            Some(v) => {
                let mut out = String::new();
                cell_text(v, &mut out);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(""),
        }),
        ColumnValue::Template(t) => {
            if let Some(text) = t.native_text(env) {
                return Ok(Cow::Borrowed(text));
            }
            let v = t.eval(ctx).map_err(|e| RowFailure::template(what, &e))?;
            let mut out = String::new();
            // Most cells are strings: written as they are, without a JSON value between.
            match v.as_str() {
                Some(s) if !template::is_omit(&v) && !template::is_unknown(&v) => out.push_str(s),
                _ => cell_text(&template::to_json(&v), &mut out),
            }
            Ok(Cow::Owned(out))
        }
        ColumnValue::AllInput => Ok(Cow::Borrowed("")),
    }
}

impl Spec {
    /// Resolves `aggregate` with the run's params (`base`).
    pub(crate) fn new(index: usize, aggregate: &Aggregate, base: &Value) -> Result<Self, String> {
        let path = render_path(&aggregate.path, &aggregate.dir, base)?;
        let zone = match aggregate.interval.as_ref().and_then(|i| i.zone.as_ref()) {
            Some(t) => {
                let name = t
                    .render(base)
                    .map_err(|e| format!("interval zone: {}", e.reason()))?;
                name.trim().parse::<Tz>().map_err(|_| {
                    format!("interval zone `{name}` is not an IANA time zone (e.g. `America/Los_Angeles`)")
                })?
            }
            None => Tz::UTC,
        };
        let mut constants = Vec::new();
        let mut until = Vec::new();
        for column in &aggregate.columns {
            constants.push(match &column.measure {
                Measure::Value(t) => Some(
                    t.render(base)
                        .map_err(|e| format!("column `{}`: {}", column.header, e.reason()))?,
                ),
                _ => None,
            });
            until.push(match &column.measure {
                Measure::Span(span) => match &span.until {
                    Some(t) => {
                        let text = t.render(base).map_err(|e| {
                            format!("column `{}` until: {}", column.header, e.reason())
                        })?;
                        if text.trim().is_empty() {
                            None
                        } else {
                            Some(parse_instant(&text, zone).ok_or_else(|| {
                                format!(
                                    "column `{}`: until `{text}` is not a date-time",
                                    column.header
                                )
                            })?)
                        }
                    }
                    None => None,
                },
                _ => None,
            });
        }
        Ok(Spec {
            index,
            path,
            headers: aggregate.columns.iter().map(|c| c.header.clone()).collect(),
            zone,
            interval_ms: aggregate
                .interval
                .as_ref()
                .map(|i| i64::from(i.minutes) * 60_000),
            constants,
            until,
            key_is_group: keys_of_groups(aggregate),
            labels: aggregate
                .columns
                .iter()
                .map(|c| format!("column `{}`", c.header))
                .collect(),
        })
    }

    /// The CSV header.
    pub(crate) fn headers(&self) -> &[String] {
        &self.headers
    }

    /// What `row` (with context `ctx`) contributes; `None` when `where` leaves it out.
    pub(crate) fn fact(
        &self,
        a: &Aggregate,
        ctx: &Value,
        env: &template::Env<'_>,
    ) -> Result<Option<Fact>, RowFailure> {
        if let Some(filter) = &a.filter
            && !filter
                .is_true_in(ctx, env)
                .map_err(|e| RowFailure::template("where", &e))?
        {
            return Ok(None);
        }
        let time = match &a.time {
            Some(value) => {
                let text = text_ref(value, ctx, env, "time")?;
                Some(
                    parse_instant(&text, self.zone)
                        .ok_or_else(|| fail("time", &format!("`{text}` is not a date-time")))?,
                )
            }
            None => None,
        };
        let mut groups = Vec::new();
        let mut parts = Vec::with_capacity(a.columns.len());
        for ((column, what), same) in a.columns.iter().zip(&self.labels).zip(&self.key_is_group) {
            let what = what.as_str();
            parts.push(match &column.measure {
                Measure::Group(value) => {
                    groups.push(text_of(value, ctx, env, what)?);
                    Part::None
                }
                Measure::Interval { .. } | Measure::Value(_) => Part::None,
                Measure::Count(None) => Part::Count(true),
                Measure::Count(Some(t)) => Part::Count(
                    t.is_true_in(ctx, env)
                        .map_err(|e| RowFailure::template(what, &e))?,
                ),
                Measure::Sum(value) => {
                    let text = text_of(value, ctx, env, what)?;
                    let text = text.trim();
                    if text.is_empty() {
                        Part::Sum(None)
                    } else {
                        let n = text.parse::<f64>().ok().filter(|n| n.is_finite());
                        Part::Sum(Some(n.ok_or_else(|| {
                            fail(what, &format!("`{text}` is not a number"))
                        })?))
                    }
                }
                Measure::Span(span) => {
                    // In this order, so a row that fails fails with the same reason.
                    let key = match same.and_then(|g| groups.get(g)) {
                        Some(group) => std::borrow::Cow::Borrowed(group.as_str()),
                        None => text_ref(&span.key, ctx, env, what)?,
                    };
                    let end = span
                        .end
                        .is_true_in(ctx, env)
                        .map_err(|e| RowFailure::template(what, &e))?;
                    let start = span
                        .start
                        .is_true_in(ctx, env)
                        .map_err(|e| RowFailure::template(what, &e))?;
                    // The key is kept only by a row that opens or closes a span.
                    let key = if start || end {
                        key.into_owned()
                    } else {
                        String::new()
                    };
                    Part::Span { key, start, end }
                }
            });
        }
        Ok(Some(Fact {
            time,
            groups,
            parts,
        }))
    }

    /// The interval an instant falls in: its start (UTC ms), on the zone's wall clock.
    /// Across a daylight-saving change an interval is longer or shorter, like the wall
    /// clock's hour or day.
    fn bucket(&self, at: i64) -> Option<i64> {
        let len = self.interval_ms?;
        let local = self.local_ms(at);
        Some(self.instant_of_local(local - local.rem_euclid(len)))
    }

    /// The start of the interval after the one starting at `bucket`.
    fn next_bucket(&self, bucket: i64) -> i64 {
        let len = self.interval_ms.unwrap_or(0);
        let next = self.instant_of_local(self.local_ms(bucket) + len);
        // A wall-clock time that repeats (the autumn change) must still move forward.
        if next > bucket { next } else { bucket + len }
    }

    /// An instant as wall-clock milliseconds in the zone.
    fn local_ms(&self, at: i64) -> i64 {
        let utc = Utc.timestamp_millis_opt(at).single().unwrap_or_default();
        let offset = self.zone.offset_from_utc_datetime(&utc.naive_utc()).fix();
        at + i64::from(offset.local_minus_utc()) * 1000
    }

    /// The first instant showing `local` on the zone's clock (or, in a spring-forward gap,
    /// the instant the clock jumps to).
    fn instant_of_local(&self, local: i64) -> i64 {
        let naive = DateTime::from_timestamp_millis(local)
            .unwrap_or_default()
            .naive_utc();
        if let Some(t) = self.zone.from_local_datetime(&naive).earliest() {
            return t.timestamp_millis();
        }
        let later = naive + chrono::Duration::hours(1);
        self.zone
            .from_local_datetime(&later)
            .earliest()
            .map_or(local, |t| t.timestamp_millis() - 3_600_000)
    }

    /// An instant shown in the zone as `YYYY-MM-DD HH:MM`.
    fn local_text(&self, at: i64) -> String {
        Utc.timestamp_millis_opt(at)
            .single()
            .unwrap_or_default()
            .with_timezone(&self.zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// A cell: one interval and group.
type CellKey = (Option<i64>, Vec<String>);

impl Spec {
    /// Which of the manifest's aggregates this is.
    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

/// Folds facts in input order.
#[derive(Debug)]
pub(crate) struct Folder {
    cells: HashMap<CellKey, Vec<f64>>,
    /// Per column: open spans by key (start instant, group values).
    open: Vec<HashMap<String, (i64, Vec<String>)>>,
    last_time: Option<i64>,
}

impl Folder {
    /// An empty fold for `aggregate`.
    pub(crate) fn new(aggregate: &Aggregate) -> Folder {
        Folder {
            cells: HashMap::new(),
            open: aggregate.columns.iter().map(|_| HashMap::new()).collect(),
            last_time: None,
        }
    }

    fn cell(&mut self, width: usize, key: CellKey) -> &mut Vec<f64> {
        self.cells.entry(key).or_insert_with(|| vec![0.0; width])
    }

    /// Adds one row's fact.
    pub(crate) fn add(&mut self, a: &Aggregate, spec: &Spec, fact: &Fact) {
        let width = fact.parts.len();
        if let Some(t) = fact.time {
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        }
        let bucket = fact.time.and_then(|t| spec.bucket(t));
        for (i, part) in fact.parts.iter().enumerate() {
            match part {
                Part::None | Part::Count(false) | Part::Sum(None) => {}
                Part::Count(true) => self.cell(width, (bucket, fact.groups.clone()))[i] += 1.0,
                Part::Sum(Some(v)) => self.cell(width, (bucket, fact.groups.clone()))[i] += v,
                Part::Span { key, start, end } => {
                    let Some(at) = fact.time else { continue };
                    if *end && let Some((from, groups)) = self.open[i].remove(key) {
                        self.spread(a, spec, i, (from, at), groups);
                    }
                    if *start && !self.open[i].contains_key(key) {
                        self.open[i].insert(key.clone(), (at, fact.groups.clone()));
                    }
                }
            }
        }
    }

    /// Adds the span `from..to` to column `i`, split at interval boundaries, in whole
    /// milliseconds: sums of them are exact in any order (below 2^53 ms, 285,000 years).
    fn spread(
        &mut self,
        a: &Aggregate,
        spec: &Spec,
        i: usize,
        (from, to): (i64, i64),
        groups: Vec<String>,
    ) {
        let width = a.columns.len();
        if to <= from || !matches!(a.columns[i].measure, Measure::Span(_)) {
            return;
        }
        if spec.interval_ms.is_none() {
            #[allow(clippy::cast_precision_loss)] // milliseconds fit an f64 exactly
            let amount = (to - from) as f64;
            self.cell(width, (None, groups))[i] += amount;
            return;
        }
        let mut at = from;
        while at < to {
            let bucket = spec.bucket(at).unwrap_or(at);
            let next = spec.next_bucket(bucket).min(to);
            #[allow(clippy::cast_precision_loss)]
            let amount = (next - at) as f64;
            self.cell(width, (Some(bucket), groups.clone()))[i] += amount;
            at = next;
        }
    }

    /// Closes open spans and returns the report's lines, sorted by interval then group.
    pub(crate) fn finish(mut self, a: &Aggregate, spec: &Spec) -> Vec<Vec<String>> {
        let width = a.columns.len();
        for i in 0..self.open.len() {
            let until = spec.until[i].or(self.last_time);
            let open: Vec<(String, (i64, Vec<String>))> = self.open[i].drain().collect();
            if let Some(until) = until {
                for (_, (from, groups)) in open {
                    self.spread(a, spec, i, (from, until), groups);
                }
            }
        }
        let has_keys = spec.interval_ms.is_some()
            || a.columns
                .iter()
                .any(|c| matches!(c.measure, Measure::Group(_)));
        if !has_keys && self.cells.is_empty() {
            self.cells.insert((None, Vec::new()), vec![0.0; width]);
        }
        let sorted: BTreeMap<CellKey, Vec<f64>> = self.cells.into_iter().collect();
        sorted
            .into_iter()
            .map(|((bucket, groups), values)| {
                let mut groups = groups.into_iter();
                a.columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| match &column.measure {
                        Measure::Group(_) => groups.next().unwrap_or_default(),
                        Measure::Interval { start } => bucket
                            .map(|b| spec.local_text(if *start { b } else { spec.next_bucket(b) }))
                            .unwrap_or_default(),
                        Measure::Value(_) => spec.constants[i].clone().unwrap_or_default(),
                        Measure::Count(_) | Measure::Sum(_) => number(values[i]),
                        Measure::Span(span) => span_number(values[i], span.unit_seconds),
                    })
                    .collect()
            })
            .collect()
    }
}

/// A number as written in reports: whole numbers plain, others to 3 decimals.
pub(crate) fn number(value: f64) -> String {
    // `+ 0.0` turns a negative zero (from rounding -0.0004) into zero.
    let rounded = (value * 1000.0).round() / 1000.0 + 0.0;
    if rounded.fract().abs() < f64::EPSILON && rounded.abs() < 1e15 {
        format!("{rounded:.0}")
    } else {
        let text = format!("{rounded:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A span total as written in reports: `ms` whole milliseconds (never negative) in units of
/// `unit_seconds`, rounded exactly, half up, to 3 decimals, and written as [`number`] does.
fn span_number(ms: f64, unit_seconds: f64) -> String {
    // Both are whole numbers: a sum of milliseconds, and 1, 60 or 3600 seconds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (ms, unit) = (ms as u128, ((unit_seconds * 1000.0) as u128).max(1));
    let thousandths = (ms * 2000 + unit) / (2 * unit);
    let (whole, rest) = (thousandths / 1000, thousandths % 1000);
    if rest == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{rest:03}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use serde_json::json;

    #[test]
    fn gladly_instants_read_like_rfc_3339() {
        for text in [
            "2026-11-20T10:00:00.000Z",
            "2026-11-20T23:59:59.999Z",
            "1970-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.123Z",
            "2024-02-29T12:30:45.500Z",
            "2026-02-29T12:30:45.500Z",
            "2026-13-01T00:00:00.000Z",
            "2026-11-20T24:00:00.000Z",
            "2026-12-31T23:59:60.000Z",
            "2026-11-20T10:00:00.000+01:00",
            "2026-11-20T10:00:00Z",
            "2026-11-2XT10:00:00.000Z",
            "+026-11-20T10:00:00.000Z",
        ] {
            let general = DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp_millis());
            assert_eq!(parse_instant(text, Tz::UTC), general, "{text}");
            if let Some(fast) = gladly_instant(text) {
                assert_eq!(Some(fast), general, "{text}");
            }
        }
        assert!(gladly_instant("2026-11-20T10:00:00.000Z").is_some());
    }

    /// Folds `rows` through the first aggregate of `yaml` (params: none) into CSV lines.
    fn fold(yaml: &str, rows: &[serde_json::Value]) -> Vec<String> {
        let manifest = Manifest::parse(std::path::Path::new("job.yaml"), yaml)
            .unwrap()
            .manifest;
        let a = &manifest.aggregates()[0];
        let base = Value::from(BTreeMap::from([(
            "params".to_owned(),
            Value::from(BTreeMap::<String, String>::new()),
        )]));
        let spec = Spec::new(0, a, &base).unwrap();
        let mut folder = Folder::new(a);
        for row in rows {
            let map = row.as_object().unwrap().clone();
            let ctx = Value::from(BTreeMap::from([(
                "row".to_owned(),
                template::from_json_map(map.clone()),
            )]));
            let globals = serde_json::Map::new();
            let env = template::Env {
                row: template::RowRef::Map(&map),
                globals: &globals,
            };
            if let Some(fact) = spec.fact(a, &ctx, &env).unwrap() {
                folder.add(a, &spec, &fact);
            }
        }
        folder
            .finish(a, &spec)
            .into_iter()
            .map(|l| l.join(","))
            .collect()
    }

    #[test]
    fn daily_intervals_follow_the_wall_clock_across_daylight_saving() {
        // New York springs forward on 2026-03-08: that day has 23 hours. Rows before and
        // after 02:00 fall in the same day; a span over the whole day counts 23 hours.
        let yaml = "version: 1\nname: t\ninput: { jsonl: x.jsonl }\naggregates:\n  - path: r.csv\n    \
                    time: at\n    interval: { minutes: 1440, zone: America/New_York }\n    columns:\n      \
                    - Day: { interval: start }\n      - End: { interval: end }\n      - N: { count: true }\n      \
                    - Hours:\n          span: { key: k, unit: hours, start: \"{{ row.on }}\", end: \"{{ not row.on }}\" }\n";
        let rows = [
            json!({"k": "a", "at": "2026-03-08T05:00:00Z", "on": true}),
            json!({"k": "a", "at": "2026-03-08T08:00:00Z", "on": true}),
            json!({"k": "a", "at": "2026-03-09T04:00:00Z", "on": false}),
        ];
        assert_eq!(
            fold(yaml, &rows),
            [
                "2026-03-08 00:00,2026-03-09 00:00,2,23",
                "2026-03-09 00:00,2026-03-10 00:00,1,0"
            ]
        );
    }

    /// A span keyed by the same template as a group takes the group's text, and counts
    /// as it did when worked out on its own.
    #[test]
    fn a_span_keyed_like_a_group_shares_its_text() {
        let yaml = "version: 1\nname: t\ninput: { jsonl: x.jsonl }\naggregates:\n  - path: r.csv\n    \
                    time: at\n    columns:\n      \
                    - Who: { group: \"{{ row.a or row.b }}\" }\n      \
                    - Mins:\n          span: { key: \"{{ row.a or row.b }}\", start: \"{{ row.on }}\", end: \"{{ not row.on }}\" }\n      \
                    - Other:\n          span: { key: \"{{ row.b }}\", start: \"{{ row.on }}\", end: \"{{ not row.on }}\" }\n";
        let manifest = Manifest::parse(std::path::Path::new("job.yaml"), yaml)
            .unwrap()
            .manifest;
        assert_eq!(
            keys_of_groups(&manifest.aggregates()[0]),
            [None, Some(0), None]
        );
        let rows = [
            json!({"a": "", "b": "x", "at": "2026-03-08T05:00:00Z", "on": true}),
            json!({"a": "", "b": "x", "at": "2026-03-08T05:30:00Z", "on": false}),
            json!({"a": "y", "b": "z", "at": "2026-03-08T06:00:00Z", "on": true}),
            json!({"a": "y", "b": "z", "at": "2026-03-08T06:10:00Z", "on": false}),
        ];
        assert_eq!(fold(yaml, &rows), ["x,30,30", "y,10,10"]);
    }

    #[test]
    fn without_groups_there_is_always_one_line() {
        let yaml = "version: 1\nname: t\ninput: { jsonl: x.jsonl }\naggregates:\n  - path: r.csv\n    \
                    columns:\n      - N: { count: \"{{ row.kind == 'a' }}\" }\n      - S: { sum: n }\n";
        assert_eq!(fold(yaml, &[]), ["0,0"]);
        let rows = [
            json!({"kind": "a", "n": "1.5"}),
            json!({"kind": "b", "n": ""}),
            json!({"kind": "a", "n": 2}),
        ];
        assert_eq!(fold(yaml, &rows), ["2,3.5"]);
    }

    #[test]
    fn a_span_crossing_midnight_splits_and_a_second_start_does_not_restart_it() {
        let yaml = "version: 1\nname: t\ninput: { jsonl: x.jsonl }\naggregates:\n  - path: r.csv\n    \
                    time: at\n    interval: { minutes: 1440 }\n    columns:\n      - Who: { group: who }\n      \
                    - Day: { interval: start }\n      - Hours:\n          span: { key: who, unit: hours, \
                    start: \"{{ row.on }}\", end: \"{{ not row.on }}\", until: '2026-01-03T06:00:00Z' }\n";
        let rows = [
            json!({"who": "a", "at": "2026-01-01T22:00:00Z", "on": true}),
            json!({"who": "a", "at": "2026-01-01T23:00:00Z", "on": true}),
            json!({"who": "a", "at": "2026-01-02T03:00:00Z", "on": false}),
            json!({"who": "b", "at": "2026-01-02T12:00:00Z", "on": true}),
        ];
        assert_eq!(
            fold(yaml, &rows),
            [
                "a,2026-01-01 00:00,2",
                "a,2026-01-02 00:00,3",
                "b,2026-01-02 00:00,12",
                "b,2026-01-03 00:00,6",
            ]
        );
    }

    #[test]
    fn numbers_are_short() {
        // Span totals round the exact quotient: ties go up whatever order made the sum.
        assert_eq!(span_number(30.0, 60.0), "0.001", "0.0005 minutes");
        assert_eq!(span_number(90.0, 60.0), "0.002", "0.0015 minutes");
        assert_eq!(span_number(29.0, 60.0), "0");
        assert_eq!(span_number(59_970.0, 60.0), "1", "0.9995 minutes");
        assert_eq!(span_number(1_234_567.0, 1.0), "1234.567");
        assert_eq!(span_number(5_400_000.0, 3600.0), "1.5");
        assert_eq!(span_number(0.0, 60.0), "0");
        // 0.1 s + 0.2 s in f64 seconds is 0.30000000000000004; in milliseconds it is 300.
        let ms = [100.0, 200.0, 60_030.0];
        let forward: f64 = ms.iter().sum();
        let backward: f64 = ms.iter().rev().sum();
        assert_eq!(span_number(forward, 60.0), span_number(backward, 60.0));
        assert_eq!(
            span_number(forward, 60.0),
            "1.006",
            "60,330 ms = 1.0055 minutes"
        );
        assert_eq!(number(2.0), "2");
        assert_eq!(number(6.033_333_333), "6.033");
        assert_eq!(number(4.5), "4.5");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(35.529), "35.529");
        assert_eq!(number(-0.0004), "0");
    }

    #[test]
    fn instants_parse_with_or_without_zone() {
        assert_eq!(
            parse_instant("1970-01-01T00:00:01.000Z", Tz::UTC),
            Some(1000)
        );
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00", Tz::UTC), Some(0));
        assert_eq!(parse_instant("1970-01-01 00:01", Tz::UTC), Some(60_000));
        // A report's local time is read in the aggregate's zone.
        assert_eq!(
            parse_instant("1970-01-01 00:00", Tz::America__Los_Angeles),
            Some(8 * 3_600_000)
        );
        assert_eq!(parse_instant("yesterday", Tz::UTC), None);
    }
}
