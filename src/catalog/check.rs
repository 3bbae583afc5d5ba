//! Checks a JSON request body against an operation's [`Shape`] and reports every
//! problem, in document order, each with the dotted path of the value at fault.
//!
//! The checks are the ones a payload can fail before it is sent: unknown fields (with
//! a did-you-mean), wrong JSON types, missing required fields, values outside an enum,
//! strings over their maximum length, and a body where none belongs (or none where one
//! does). Cross-field rules ("exactly one of email or phone") and formats are left to
//! the API. Two leniencies match what real clients send: `null` is accepted for any
//! field that is not required, and a string starting with [`UNKNOWN_PREFIX`] (a
//! dry-run stand-in for a value only a write would produce) is accepted for any shape.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use super::UNKNOWN_PREFIX;
use super::operation::BodySpec;
use super::shape::{Field, Shape};
use super::similar::closest;

/// Enums longer than this are shortened in messages.
const LISTED_VALUES: usize = 10;

/// One thing wrong with a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyProblem {
    /// Where: `emails[1].type`, or `""` for the body itself.
    pub path: String,
    /// What.
    pub kind: BodyProblemKind,
}

/// What is wrong with a value in a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyProblemKind {
    /// The key is not a field of a closed object.
    UnknownField {
        /// The closest declared field name, if one is close.
        suggestion: Option<String>,
    },
    /// The value has the wrong JSON type.
    WrongType {
        /// The type the shape wants (`string`, `integer`, `object`, …).
        expected: &'static str,
        /// The type found (`null`, `number`, `array`, …).
        found: &'static str,
    },
    /// A required field is absent.
    MissingRequired,
    /// A string outside its enum.
    BadEnum {
        /// The value found.
        value: String,
        /// Every accepted value.
        allowed: Vec<String>,
        /// The closest accepted value, if one is close.
        suggestion: Option<String>,
    },
    /// A string longer than its maximum.
    TooLong {
        /// The maximum length, in characters.
        max: u32,
        /// The length found, in characters.
        len: usize,
    },
    /// The operation needs a body and none was given.
    MissingBody,
    /// The operation takes no body and one was given.
    UnexpectedBody,
}

impl BodyProblem {
    fn new(path: &str, kind: BodyProblemKind) -> Self {
        BodyProblem {
            path: path.to_owned(),
            kind,
        }
    }

    /// How the message names the value: `` `path` `` or "the body".
    fn subject(&self) -> String {
        if self.path.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{}`", self.path)
        }
    }
}

impl fmt::Display for BodyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = self.subject();
        match &self.kind {
            BodyProblemKind::UnknownField { suggestion } => {
                write!(f, "unknown field {subject}{}", hint(suggestion.as_deref()))
            }
            BodyProblemKind::WrongType { expected, found } => {
                write!(f, "{subject} must be {}, found {}", a(expected), a(found))
            }
            BodyProblemKind::MissingRequired => write!(f, "missing required field {subject}"),
            BodyProblemKind::BadEnum {
                value,
                allowed,
                suggestion,
            } => write!(
                f,
                "{subject} must be one of {}, found `{value}`{}",
                list(allowed),
                hint(suggestion.as_deref())
            ),
            BodyProblemKind::TooLong { max, len } => write!(
                f,
                "{subject} is too long: {len} characters, at most {max} allowed"
            ),
            BodyProblemKind::MissingBody => f.write_str("missing request body"),
            BodyProblemKind::UnexpectedBody => {
                f.write_str("unexpected request body: this operation takes none")
            }
        }
    }
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}

/// A type word with its article: "an object", "a string", "null".
fn a(word: &str) -> String {
    match word {
        "null" => "null".to_owned(),
        w if w.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {w}"),
        w => format!("a {w}"),
    }
}

/// "`A`, `B`, `C`", shortened to the first few when the enum is long.
fn list(values: &[String]) -> String {
    let shown = values.iter().take(LISTED_VALUES).map(|v| format!("`{v}`"));
    let mut text = shown.collect::<Vec<_>>().join(", ");
    if values.len() > LISTED_VALUES {
        let _ = write!(text, ", … ({} values in all)", values.len());
    }
    text
}

/// Checks an optional body against an optional spec (see [`crate::catalog::Operation::check_body`]).
pub(super) fn check_body(spec: Option<&BodySpec>, body: Option<&Value>) -> Vec<BodyProblem> {
    match (spec, body) {
        (None, Some(_)) => vec![BodyProblem::new("", BodyProblemKind::UnexpectedBody)],
        (Some(spec), None) if spec.required => {
            vec![BodyProblem::new("", BodyProblemKind::MissingBody)]
        }
        (Some(spec), Some(body)) => spec.shape.check(body),
        (None | Some(_), None) => Vec::new(),
    }
}

impl Shape {
    /// Every problem with `value` as a value of this shape, in document order; paths
    /// are relative to `value` (`""` is the value itself).
    pub fn check(&self, value: &Value) -> Vec<BodyProblem> {
        let mut checker = Checker::default();
        checker.value(self, value, &mut String::new());
        checker.problems
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<BodyProblem>,
}

impl Checker {
    fn report(&mut self, path: &str, kind: BodyProblemKind) {
        self.problems.push(BodyProblem::new(path, kind));
    }

    /// Checks `value` at `path`, which grows and shrinks back as the walk goes down (one
    /// buffer for the whole body: most bodies have no problem to name a path for).
    fn value(&mut self, shape: &Shape, value: &Value, path: &mut String) {
        if value
            .as_str()
            .is_some_and(|s| s.starts_with(UNKNOWN_PREFIX))
        {
            return;
        }
        let fits = match (shape, value) {
            (Shape::Any, _)
            | (Shape::Boolean, Value::Bool(_))
            | (Shape::Number, Value::Number(_)) => true,
            (Shape::Integer, Value::Number(n)) => is_integer(n),
            (Shape::String { .. }, Value::String(text)) => {
                self.string(shape, text, path);
                true
            }
            (Shape::Array(item), Value::Array(values)) => {
                let len = path.len();
                for (i, element) in values.iter().enumerate() {
                    use std::fmt::Write as _;
                    let _ = write!(path, "[{i}]");
                    self.value(item, element, path);
                    path.truncate(len);
                }
                true
            }
            (Shape::Object { fields, additional }, Value::Object(map)) => {
                self.object(fields, *additional, map, path);
                true
            }
            _ => false,
        };
        if !fits {
            let kind = BodyProblemKind::WrongType {
                expected: shape.type_name(),
                found: json_type(value),
            };
            self.report(path, kind);
        }
    }

    fn string(&mut self, shape: &Shape, text: &str, path: &str) {
        let Shape::String {
            enum_values,
            max_length,
        } = shape
        else {
            return;
        };
        if !enum_values.is_empty() && !enum_values.iter().any(|v| v == text) {
            let suggestion = closest(text, enum_values.iter().map(String::as_str));
            let kind = BodyProblemKind::BadEnum {
                value: text.to_owned(),
                allowed: enum_values.clone(),
                suggestion: suggestion.map(str::to_owned),
            };
            self.report(path, kind);
            return;
        }
        let len = text.chars().count();
        match *max_length {
            Some(max) if len > max as usize => {
                self.report(path, BodyProblemKind::TooLong { max, len });
            }
            _ => {}
        }
    }

    fn object(
        &mut self,
        fields: &[Field],
        additional: bool,
        map: &Map<String, Value>,
        path: &mut String,
    ) {
        let len = path.len();
        for (key, value) in map {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            match fields.iter().find(|f| f.name == *key) {
                Some(field) if value.is_null() && !field.required => {}
                Some(field) => self.value(&field.shape, value, path),
                None if additional => {}
                None => {
                    let names = fields.iter().map(|f| f.name.as_str());
                    let suggestion = closest(key, names).map(str::to_owned);
                    self.report(path, BodyProblemKind::UnknownField { suggestion });
                }
            }
            path.truncate(len);
        }
        for field in fields.iter().filter(|f| f.required) {
            if !map.contains_key(&field.name) {
                self.report(&join(path, &field.name), BodyProblemKind::MissingRequired);
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Whole numbers count as integers even when written `3.0`.
fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn string(values: &[&str], max: Option<u32>) -> Shape {
        Shape::String {
            enum_values: values.iter().map(|v| (*v).to_owned()).collect(),
            max_length: max,
        }
    }

    fn field(name: &str, shape: Shape, required: bool) -> Field {
        Field {
            name: name.to_owned(),
            shape,
            required,
        }
    }

    /// `{ id: string!, phones: [{ original: string!, type: HOME|MOBILE|OFFICE }],
    ///    count: integer, note: string(max 5), extra: {free-form} }`
    fn profile() -> Shape {
        let phone = Shape::Object {
            fields: vec![
                field("original", string(&[], None), true),
                field("type", string(&["HOME", "MOBILE", "OFFICE"], None), false),
            ],
            additional: false,
        };
        Shape::Object {
            fields: vec![
                field("id", string(&[], None), true),
                field("phones", Shape::Array(Box::new(phone)), false),
                field("count", Shape::Integer, false),
                field("note", string(&[], Some(5)), false),
                field(
                    "extra",
                    Shape::Object {
                        fields: vec![],
                        additional: true,
                    },
                    false,
                ),
            ],
            additional: false,
        }
    }

    fn messages(shape: &Shape, value: &Value) -> Vec<String> {
        shape.check(value).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_value_has_no_problems() {
        let value = json!({"id": "a", "phones": [{"original": "1", "type": "HOME"}],
                           "count": 3, "note": "short", "extra": {"any": [1, {}]}});
        assert!(profile().check(&value).is_empty());
    }

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let value = json!({"id": "a", "phones": [{"original": "1", "typ": "HOME"}]});
        assert_eq!(
            messages(&profile(), &value),
            ["unknown field `phones[0].typ` (did you mean `type`?)"]
        );
        let value = json!({"id": "a", "zzzzzz": 1});
        assert_eq!(messages(&profile(), &value), ["unknown field `zzzzzz`"]);
    }

    #[test]
    fn wrong_types_name_both_sides() {
        let value = json!({"id": 7, "phones": {}, "count": 1.5});
        assert_eq!(
            messages(&profile(), &value),
            [
                "`id` must be a string, found an integer",
                "`phones` must be an array, found an object",
                "`count` must be an integer, found a number",
            ]
        );
        assert_eq!(
            messages(&profile(), &json!([])),
            ["the body must be an object, found an array"]
        );
    }

    #[test]
    fn whole_floats_count_as_integers() {
        assert!(Shape::Integer.check(&json!(3.0)).is_empty());
        assert!(Shape::Number.check(&json!(3)).is_empty());
    }

    #[test]
    fn missing_required_fields_come_after_the_present_ones() {
        let value = json!({"phones": [{"type": "HOME"}], "count": "x"});
        assert_eq!(
            messages(&profile(), &value),
            [
                "missing required field `phones[0].original`",
                "`count` must be an integer, found a string",
                "missing required field `id`",
            ]
        );
    }

    #[test]
    fn bad_enums_list_the_allowed_values() {
        let value = json!({"id": "a", "phones": [{"original": "1", "type": "MOBIL"}]});
        let problems = profile().check(&value);
        assert_eq!(
            problems[0].to_string(),
            "`phones[0].type` must be one of `HOME`, `MOBILE`, `OFFICE`, found `MOBIL` (did you mean `MOBILE`?)"
        );
        assert!(matches!(
            &problems[0].kind,
            BodyProblemKind::BadEnum { allowed, .. } if allowed.len() == 3
        ));
    }

    #[test]
    fn long_enums_are_shortened_in_messages() {
        let values: Vec<String> = (0..12).map(|i| format!("V{i}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let text = string(&refs, None).check(&json!("nope"))[0].to_string();
        assert!(
            text.ends_with("`V9`, … (12 values in all), found `nope`"),
            "{text}"
        );
    }

    #[test]
    fn too_long_counts_characters() {
        let value = json!({"id": "a", "note": "ééééé"});
        assert!(profile().check(&value).is_empty());
        let value = json!({"id": "a", "note": "toolong"});
        assert_eq!(
            profile().check(&value)[0].kind,
            BodyProblemKind::TooLong { max: 5, len: 7 }
        );
        assert_eq!(
            messages(&profile(), &value),
            ["`note` is too long: 7 characters, at most 5 allowed"]
        );
    }

    #[test]
    fn null_is_fine_only_where_not_required() {
        let value = json!({"id": "a", "count": null, "note": null});
        assert!(profile().check(&value).is_empty());
        let value = json!({"id": null});
        assert_eq!(
            messages(&profile(), &value),
            ["`id` must be a string, found null"]
        );
    }

    #[test]
    fn unknown_stand_ins_fit_any_shape() {
        let unknown = json!(format!("{UNKNOWN_PREFIX}: create.id>"));
        for shape in [profile(), Shape::Integer, string(&["A"], Some(1))] {
            assert!(shape.check(&unknown).is_empty());
        }
        let value = json!({"id": unknown, "phones": [{"original": unknown, "type": unknown}]});
        assert!(profile().check(&value).is_empty());
    }

    #[test]
    fn body_presence_is_checked() {
        let spec = BodySpec {
            required: true,
            shape: Shape::Any,
        };
        assert_eq!(
            check_body(Some(&spec), None)[0].to_string(),
            "missing request body"
        );
        let optional = BodySpec {
            required: false,
            shape: Shape::Any,
        };
        assert!(check_body(Some(&optional), None).is_empty());
        assert_eq!(
            check_body(None, Some(&json!({})))[0].to_string(),
            "unexpected request body: this operation takes none"
        );
        assert!(check_body(None, None).is_empty());
    }
}
