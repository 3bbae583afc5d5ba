//! The functions and filters manifest templates can call, as the seed jobs need them:
//! Gladly-style ids (random and stable), columns by prefix, lookups with "did you mean",
//! and ISO dates in IANA time zones. Everything here is pure but `gladly_id` and `now`.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use minijinja::value::{Object, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use crate::diagnostic::did_you_mean;

/// The context key holding the run's lookup tables (`name -> key -> item`).
pub(crate) const LOOKUPS_KEY: &str = "__lookups";

/// The context key that, when true, makes `lookup` answer [`unknown`] values (a dry run
/// without a host has no lookup tables).
pub(crate) const OFFLINE_KEY: &str = "__offline";

/// A value only a real run would know (a capture of a write, a lookup in an offline dry
/// run). Any attribute of it is unknown too; it renders as `<unknown NAME>`, which the
/// catalog accepts for any field type.
#[derive(Debug)]
struct Unknown(String);

impl Object for Unknown {
    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        Some(unknown(&format!("{}.{key}", self.0)))
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<unknown {}>", self.0)
    }
}

/// True for a value made by [`unknown`].
pub(crate) fn is_unknown(value: &Value) -> bool {
    value.downcast_object_ref::<Unknown>().is_some()
}

/// A value standing for something only a real run would know, labelled `name`.
pub(crate) fn unknown(name: &str) -> Value {
    Value::from_object(Unknown(name.to_owned()))
}

/// The value of `omit`: a body key whose value is `omit` is left out.
#[derive(Debug)]
struct Omit;

impl Object for Omit {}

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_global("omit", Value::from_object(Omit));
    env.add_function("gladly_id", gladly_id);
    env.add_function("stable_id", stable_id_fn);
    env.add_function("lookup", lookup);
    env.add_function("lookup_chain", lookup_chain);
    env.add_function("contact_matches", contact_matches);
    env.add_function("contains_any", contains_any);
    env.add_function("now", now);
    env.add_function("datetime", datetime);
    env.add_function("format_time", format_time);
    env.add_filter("datetime", datetime);
    env.add_filter("format_time", format_time);
    env.add_filter("prefixed", prefixed);
    env.add_filter("prefixed_map", prefixed_map);
    env.add_filter("plus_days", plus_days);
    env.add_filter("plus_hours", plus_hours);
    env.add_filter("plus_minutes", plus_minutes);
    env.add_filter("to_objects", to_objects);
}

/// True for the `omit` value.
pub(crate) fn is_omit(value: &Value) -> bool {
    value.downcast_object_ref::<Omit>().is_some()
}

/// A new random Gladly-style id: 16 random bytes as 22 URL-safe base64 characters.
fn gladly_id() -> String {
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A Gladly-style id derived from `parts`: the same parts always give the same id, so a
/// re-run of a create job sends the same id and Gladly answers 409 instead of duplicating.
pub(crate) fn stable_id(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    let digest = hash.finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[allow(clippy::needless_pass_by_value)] // minijinja hands function arguments over by value
fn stable_id_fn(parts: Rest<Value>) -> Result<String, Error> {
    if parts.is_empty() {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "stable_id needs at least one key value",
        ));
    }
    let texts: Vec<String> = parts.iter().map(ToString::to_string).collect();
    if texts.iter().all(String::is_empty) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "stable_id got only empty keys: every row would get the same id",
        ));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(stable_id(&refs))
}

/// `lookup('inboxes', 'Billing')`: the item of a lookup table, or an error naming the
/// closest key. The error fails the row before any of its writes.
///
/// A list of keys gives the list of their items (`lookup('audiences', ['A', 'B'])`), so a
/// cell naming several items needs no loop. A third argument is returned for a key that is
/// not in the table instead of failing: `lookup('agents', id, none)` tests membership.
#[allow(clippy::needless_pass_by_value)] // minijinja hands function arguments over by value
fn lookup(state: &State, name: &str, key: &Value, default: Rest<Value>) -> Result<Value, Error> {
    if default.len() > 1 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "lookup takes a name, a key (or a list of keys) and an optional default",
        ));
    }
    let default = default.first();
    // A list, or a lazy sequence (`a + b`, `split(',')` without `| list`): its keys.
    let keys = matches!(key.kind(), ValueKind::Seq | ValueKind::Iterable)
        .then(|| key.try_iter())
        .transpose()?;
    if state.lookup(OFFLINE_KEY).is_some_and(|v| v.is_true()) {
        let offline = |k: &Value| unknown(&format!("lookup {name}[{k}]"));
        return Ok(match keys {
            Some(keys) => Value::from(keys.map(|k| offline(&k)).collect::<Vec<_>>()),
            None => offline(key),
        });
    }
    let tables = state.lookup(LOOKUPS_KEY).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "no lookups are loaded in this run",
        )
    })?;
    let table = tables
        .get_attr(name)
        .ok()
        .filter(|t| !t.is_undefined())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("no lookup named `{name}`"),
            )
        })?;
    match keys {
        Some(keys) => keys
            .map(|k| lookup_one(&table, name, &k, default))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        None => lookup_one(&table, name, key, default),
    }
}

/// `lookup_chain('topics', id, 'parentId')`: the item with key `id`, after its parent,
/// its parent's parent… — root first. A missing parent ends the chain; a loop is cut.
fn lookup_chain(state: &State, name: &str, key: &Value, parent: &str) -> Result<Value, Error> {
    if state.lookup(OFFLINE_KEY).is_some_and(|v| v.is_true()) {
        return Ok(Value::from(vec![unknown(&format!("lookup {name}[{key}]"))]));
    }
    let mut chain = vec![lookup(state, name, key, Rest(Vec::new()))?];
    let tables = state.lookup(LOOKUPS_KEY).unwrap_or_default();
    let table = tables.get_attr(name).unwrap_or_default();
    let mut seen = vec![key.to_string()];
    loop {
        let up = chain
            .last()
            .and_then(|item| item.get_attr(parent).ok())
            .filter(|p| !p.is_undefined() && !p.is_none() && !p.to_string().is_empty());
        let Some(up) = up else { break };
        let text = up.as_str().map_or_else(|| up.to_string(), str::to_owned);
        if seen.contains(&text) {
            break;
        }
        let item = table.get_item(&Value::from(text.as_str()))?;
        if item.is_undefined() {
            break;
        }
        seen.push(text);
        chain.push(item);
    }
    chain.reverse();
    Ok(Value::from(chain))
}

/// The strings in `value`: itself, or the items of a list (nested lists flattened).
fn strings_of(value: &Value, out: &mut Vec<String>) {
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => {
            if let Ok(items) = value.try_iter() {
                for item in items {
                    strings_of(&item, out);
                }
            }
        }
        ValueKind::Undefined | ValueKind::None => {}
        _ => {
            if let Some(s) = value.as_str() {
                out.push(s.to_owned());
            } else {
                out.push(value.to_string());
            }
        }
    }
}

/// Patterns given as a list (each item one pattern) or as one comma- or line-separated
/// text; trimmed, blanks dropped.
fn patterns_of(value: &Value) -> Vec<String> {
    let mut raw = Vec::new();
    strings_of(value, &mut raw);
    let split = value.as_str().is_some();
    raw.iter()
        .flat_map(|p| {
            if split {
                p.split([',', '\n']).collect::<Vec<_>>()
            } else {
                vec![p.as_str()]
            }
        })
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `contact_matches(values, patterns)`: true when any value (an email address or phone
/// number, or a list of them) matches any pattern: an exact email (any case), an E.164
/// phone number (`+14155550100`, punctuation ignored) or a domain (`@example.com`).
fn contact_matches(values: &Value, patterns: &Value) -> bool {
    let mut found = Vec::new();
    strings_of(values, &mut found);
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    patterns_of(patterns).iter().any(|pattern| {
        let pattern = pattern.to_lowercase();
        found.iter().any(|value| {
            let value = value.trim().to_lowercase();
            if let Some(domain) = pattern.strip_prefix('@') {
                value.rsplit_once('@').is_some_and(|(_, d)| d == domain)
            } else if pattern.contains('@') {
                value == pattern
            } else {
                let want = digits(&pattern);
                !want.is_empty() && digits(&value) == want
            }
        })
    })
}

/// `contains_any(values, phrases)`: true when any value (text or a list) contains any
/// phrase, ignoring case.
fn contains_any(values: &Value, phrases: &Value) -> bool {
    let mut found = Vec::new();
    strings_of(values, &mut found);
    let phrases: Vec<String> = patterns_of(phrases)
        .iter()
        .map(|p| p.to_lowercase())
        .collect();
    found.iter().any(|value| {
        let value = value.to_lowercase();
        phrases.iter().any(|p| value.contains(p.as_str()))
    })
}

fn lookup_one(
    table: &Value,
    name: &str,
    key: &Value,
    default: Option<&Value>,
) -> Result<Value, Error> {
    let key_text = key.as_str().map_or_else(|| key.to_string(), str::to_owned);
    let item = table.get_item(&Value::from(key_text.as_str()))?;
    if !item.is_undefined() {
        return Ok(item);
    }
    if let Some(default) = default {
        return Ok(default.clone());
    }
    let keys: Vec<String> = table
        .try_iter()
        .map(|it| it.map(|k| k.to_string()).collect())
        .unwrap_or_default();
    let hint = did_you_mean(&key_text, keys.iter().map(String::as_str))
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("`{key_text}` is not in lookup `{name}`{hint}"),
    ))
}

/// The non-empty values of the columns whose names start with `prefix`, in column order:
/// `row | prefixed('email:')` gives the `email:1`, `email:2`, … cells that are filled.
fn prefixed(row: &Value, prefix: &str) -> Result<Value, Error> {
    let mut out = Vec::new();
    for key in row.try_iter()? {
        let Some(name) = key.as_str() else { continue };
        if name.starts_with(prefix) {
            let value = row.get_item(&key)?;
            if !is_blank(&value) {
                out.push(value);
            }
        }
    }
    Ok(Value::from(out))
}

/// The non-empty columns starting with `prefix` as an object keyed by the rest of the
/// name: `row | prefixed_map('customAttribute:')` gives `{"attr1": "hello"}`.
fn prefixed_map(row: &Value, prefix: &str) -> Result<Value, Error> {
    let mut out = std::collections::BTreeMap::new();
    for key in row.try_iter()? {
        let Some(name) = key.as_str() else { continue };
        if let Some(rest) = name.strip_prefix(prefix) {
            let value = row.get_item(&key)?;
            if !is_blank(&value) {
                out.insert(rest.to_owned(), value);
            }
        }
    }
    Ok(Value::from(out))
}

/// Wraps each item of a list in an object under `key`:
/// `['a@x.com'] | to_objects('original')` gives `[{"original": "a@x.com"}]`.
fn to_objects(list: &Value, key: &str) -> Result<Value, Error> {
    let mut out = Vec::new();
    for item in list.try_iter()? {
        let mut object = std::collections::BTreeMap::new();
        object.insert(key.to_owned(), item);
        out.push(Value::from(object));
    }
    Ok(Value::from(out))
}

fn is_blank(value: &Value) -> bool {
    value.is_none() || value.is_undefined() || value.as_str().is_some_and(|s| s.trim().is_empty())
}

fn gladly_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The current time as `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn now() -> String {
    gladly_time(Utc::now())
}

fn parse_tz(tz: Option<&str>) -> Result<Tz, Error> {
    let name = tz.unwrap_or("UTC");
    name.parse::<Tz>().map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{name}` is not an IANA time zone (e.g. `America/Los_Angeles`)"),
        )
    })
}

/// Parses an ISO date or date-time; one without an offset is read in `tz`.
fn parse_time(text: &str, tz: Tz) -> Result<DateTime<Utc>, Error> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{text}` is not an ISO date or date-time"),
        )
    })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`{text}` does not exist in time zone `{tz}`"),
            )
        })
}

/// `datetime('2024-09-28', 'America/Los_Angeles')` → `2024-09-28T07:00:00.000Z`.
fn datetime(value: &str, tz: Option<&str>) -> Result<String, Error> {
    Ok(gladly_time(parse_time(value, parse_tz(tz)?)?))
}

/// `format_time(ts, '%Y-%m-%d %H:%M', 'America/Los_Angeles')`: a time shown in a zone.
fn format_time(value: &str, format: &str, tz: Option<&str>) -> Result<String, Error> {
    let items = time_format(format)?;
    let tz = parse_tz(tz)?;
    let t = parse_time(value, Tz::UTC)?;
    let mut out = String::new();
    // A specifier the zone or date cannot show (`%Z` of an offset-less value) is an error
    // of the row, never a panic.
    write!(
        out,
        "{}",
        t.with_timezone(&tz).format_with_items(items.iter())
    )
    .map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{format}` cannot show the time `{value}`"),
        )
    })?;
    Ok(out)
}

/// The parsed items of a `format_time` format; an unknown `%` specifier is an error that
/// names it (chrono would panic while printing it).
pub(crate) fn time_format(format: &str) -> Result<Vec<chrono::format::Item<'_>>, Error> {
    let items: Vec<_> = chrono::format::StrftimeItems::new(format).collect();
    if items.contains(&chrono::format::Item::Error) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "`{format}` is not a valid time format: use strftime specifiers such as \
                 %Y-%m-%d %H:%M:%S"
            ),
        ));
    }
    Ok(items)
}

/// `ts | plus_days(7)`: a time moved by whole days (negative goes back).
fn plus_days(value: &str, days: i64) -> Result<String, Error> {
    shift(value, chrono::Duration::try_days(days), days, "days")
}

/// Moves a time; an amount beyond chrono's range (about ±262,000 years) is a row error.
fn shift(
    value: &str,
    by: Option<chrono::Duration>,
    amount: i64,
    unit: &str,
) -> Result<String, Error> {
    let start = parse_time(value, Tz::UTC)?;
    by.and_then(|by| start.checked_add_signed(by))
        .map(gladly_time)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`{value}` moved by {amount} {unit} is out of the range of dates"),
            )
        })
}

/// `ts | plus_hours(-24)`: a time moved by whole hours.
fn plus_hours(value: &str, hours: i64) -> Result<String, Error> {
    shift(value, chrono::Duration::try_hours(hours), hours, "hours")
}

/// `ts | plus_minutes(30)`: a time moved by whole minutes.
fn plus_minutes(value: &str, minutes: i64) -> Result<String, Error> {
    shift(
        value,
        chrono::Duration::try_minutes(minutes),
        minutes,
        "minutes",
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Template, from_json, to_json};
    use super::*;
    use crate::diagnostic::Span;
    use minijinja::context;
    use serde_json::json;

    fn eval(src: &str, ctx: &Value) -> Result<serde_json::Value, String> {
        Template::compile(src, Span::default())
            .unwrap()
            .eval(ctx)
            .map(|v| to_json(&v))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn contacts_match_exact_emails_phones_and_domains() {
        let row = from_json(&json!({
            "from": "Ada@Example.com",
            "to": ["billing@acme.example"],
            "phones": ["+1 (415) 555-0100"]
        }));
        let ctx = context! { row };
        let matches = |pattern: &str| {
            let src =
                format!("{{{{ contact_matches([row.from, row.to, row.phones], '{pattern}') }}}}");
            eval(&src, &ctx).unwrap()
        };
        assert_eq!(matches("ada@example.com"), json!(true), "any case");
        assert_eq!(matches("@acme.example"), json!(true), "a domain");
        assert_eq!(matches("+14155550100"), json!(true), "punctuation ignored");
        assert_eq!(
            matches("nobody@x.com, @example.com"),
            json!(true),
            "one of several"
        );
        assert_eq!(matches("@example.co"), json!(false), "the whole domain");
        assert_eq!(matches("a@example.com"), json!(false), "the whole address");
        assert_eq!(matches("+1415555"), json!(false), "the whole number");
    }

    #[test]
    fn phrases_match_ignoring_case_and_list_items_stay_whole() {
        let ctx = context! { body => "Please REFUND my late order" };
        let any = |phrases: &str| eval(&format!("{{{{ contains_any(body, {phrases}) }}}}"), &ctx);
        assert_eq!(any("'refund'").unwrap(), json!(true));
        assert_eq!(any("'nope, late order'").unwrap(), json!(true));
        assert_eq!(
            any("['refund, please']").unwrap(),
            json!(false),
            "one phrase with a comma"
        );
        assert_eq!(any("[]").unwrap(), json!(false));
    }

    #[test]
    fn gladly_ids_are_22_url_safe_chars() {
        let a = eval("{{ gladly_id() }}", &context! {}).unwrap();
        let b = eval("{{ gladly_id() }}", &context! {}).unwrap();
        let a = a.as_str().unwrap();
        assert_eq!(a.len(), 22);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b.as_str().unwrap());
    }

    #[test]
    fn stable_ids_repeat_for_the_same_key() {
        let row = from_json(&json!({"email": "a@example.com"}));
        let ctx = context! { row => row };
        let a = eval("{{ stable_id(row.email) }}", &ctx).unwrap();
        assert_eq!(a, eval("{{ stable_id(row.email) }}", &ctx).unwrap());
        assert_eq!(a.as_str().unwrap().len(), 22);
        assert_ne!(a, eval("{{ stable_id('other') }}", &ctx).unwrap());
        assert!(eval("{{ stable_id('') }}", &ctx).is_err());
    }

    #[test]
    fn prefixed_columns_skip_blank_cells() {
        let row = from_json(&json!({
            "name": "A", "email:1": "a@x.com", "email:2": "", "email:3": "c@x.com",
            "customAttribute:attr1": "hello", "customAttribute:attr2": " "
        }));
        let ctx = context! { row => row };
        assert_eq!(
            eval("{{ row | prefixed('email:') }}", &ctx).unwrap(),
            json!(["a@x.com", "c@x.com"])
        );
        assert_eq!(
            eval("{{ row | prefixed_map('customAttribute:') }}", &ctx).unwrap(),
            json!({"attr1": "hello"})
        );
    }

    #[test]
    fn to_objects_wraps_items() {
        let ctx = context! {};
        assert_eq!(
            eval("{{ ['a', 'b'] | to_objects('original') }}", &ctx).unwrap(),
            json!([{"original": "a"}, {"original": "b"}])
        );
    }

    #[test]
    fn lookups_find_items_or_suggest() {
        let tables = from_json(&json!({"inboxes": {"Billing": {"id": "b1"}}}));
        let ctx = context! { __lookups => tables };
        assert_eq!(
            eval("{{ lookup('inboxes', 'Billing').id }}", &ctx).unwrap(),
            json!("b1")
        );
        let err = eval("{{ lookup('inboxes', 'Biling').id }}", &ctx).unwrap_err();
        assert!(
            err.contains("`Biling` is not in lookup `inboxes` (did you mean `Billing`?)"),
            "{err}"
        );
    }

    #[test]
    fn lookups_take_lists_of_keys_and_a_default() {
        let tables = from_json(&json!({"audiences": {"A": {"id": "a1"}, "B": {"id": "b1"}}}));
        let ctx = context! { __lookups => tables, row => from_json(&json!({"names": "A, B"})) };
        assert_eq!(
            eval(
                "{{ lookup('audiences', row.names | split(',') | map('trim') | list) | map(attribute='id') | list }}",
                &ctx
            )
            .unwrap(),
            json!(["a1", "b1"])
        );
        assert_eq!(
            eval("{{ lookup('audiences', []) }}", &ctx).unwrap(),
            json!([])
        );
        let err = eval("{{ lookup('audiences', ['A', 'C']) }}", &ctx).unwrap_err();
        assert!(err.contains("`C` is not in lookup `audiences`"), "{err}");
        assert_eq!(
            eval("{{ lookup('audiences', 'C', none) }}", &ctx).unwrap(),
            json!(null)
        );
        assert_eq!(
            eval("{{ lookup('audiences', 'A', none).id }}", &ctx).unwrap(),
            json!("a1")
        );
        assert_eq!(
            eval("{{ lookup('audiences', ['A', 'C'], 'x') }}", &ctx).unwrap(),
            json!([{"id": "a1"}, "x"])
        );
        // Too many arguments is caught when the template compiles.
        assert!(
            Template::compile("{{ lookup('audiences', 'A', 1, 2) }}", Span::default()).is_err()
        );
        assert_eq!(
            eval(
                "{{ lookup('audiences', ['A'] + ['B'], {}) | map(attribute='id') | list }}",
                &ctx
            )
            .unwrap(),
            json!(["a1", "b1"]),
            "two lists joined with `+` are a list of keys"
        );
        let offline = context! { __offline => true };
        let planned = eval(
            "{{ lookup('audiences', ['A', 'B']) | map(attribute='id') | list }}",
            &offline,
        )
        .unwrap();
        assert_eq!(
            planned,
            json!([
                "<unknown lookup audiences[A].id>",
                "<unknown lookup audiences[B].id>"
            ])
        );
    }

    #[test]
    fn dates_in_time_zones() {
        let ctx = context! {};
        assert_eq!(
            eval("{{ datetime('2024-09-28', 'America/Los_Angeles') }}", &ctx).unwrap(),
            json!("2024-09-28T07:00:00.000Z")
        );
        assert_eq!(
            eval("{{ '2024-09-28T10:00:00+02:00' | datetime }}", &ctx).unwrap(),
            json!("2024-09-28T08:00:00.000Z")
        );
        assert_eq!(
            eval("{{ format_time('2021-11-09T13:00:00Z', '%Y-%m-%d %H:%M', 'America/Los_Angeles') }}", &ctx)
                .unwrap(),
            json!("2021-11-09 05:00")
        );
        assert_eq!(
            eval("{{ '2024-01-30T00:00:00Z' | plus_days(2) }}", &ctx).unwrap(),
            json!("2024-02-01T00:00:00.000Z")
        );
        assert!(eval("{{ datetime('x') }}", &ctx).is_err());
        assert!(eval("{{ datetime('2024-01-01', 'Mars/Base') }}", &ctx).is_err());
    }

    #[test]
    fn split_trim_lower_are_available() {
        let ctx = context! {};
        assert_eq!(
            eval(
                "{{ ' A, B ' | split(',') | map('trim') | map('lower') | list }}",
                &ctx
            )
            .unwrap(),
            json!(["a", "b"])
        );
    }

    #[test]
    fn times_out_of_range_and_bad_formats_are_row_errors_not_panics() {
        let ctx =
            from_json(&json!({"row": {"at": "2026-01-01", "n": 936_854_775_807_i64, "f": "%Q"}}));
        for src in [
            "{{ row.at | plus_days(row.n) }}",
            "{{ row.at | plus_hours(row.n * 1000) }}",
            "{{ row.at | plus_minutes(-row.n * 1000000) }}",
            "{{ row.at | format_time(row.f) }}",
            "{{ format_time(row.at, row.f, 'UTC') }}",
        ] {
            let err = eval(src, &ctx).unwrap_err();
            assert!(
                err.contains("out of the range of dates")
                    || err.contains("not a valid time format"),
                "{src}: {err}"
            );
        }
        assert_eq!(
            eval("{{ row.at | plus_days(2) }}", &ctx).unwrap(),
            json!("2026-01-03T00:00:00.000Z")
        );
    }
}
