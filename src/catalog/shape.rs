//! The shape of a JSON value an operation accepts: a small subset of JSON Schema,
//! kept to what payload checks need (types, fields, required, enums, max length).
//!
//! The generator has already resolved `$ref`s, folded `allOf`, and merged `oneOf`
//! variants into one shape that accepts what any variant accepts (fields unioned, a
//! field required only when every variant requires it, enums unioned). Formats and
//! patterns are not kept: the API reports those itself, and a dry run should not
//! guess at them.

use serde::Deserialize;

/// What a JSON value must look like.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawShape")]
pub enum Shape {
    /// Anything goes.
    Any,
    /// A string, optionally limited to `enum_values` (when non-empty) and `max_length`
    /// characters.
    String {
        /// The accepted values; empty means any string.
        enum_values: Vec<String>,
        /// The longest accepted string, in characters.
        max_length: Option<u32>,
    },
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array whose every element has the inner shape.
    Array(Box<Shape>),
    /// An object with known `fields`; other keys are accepted only when `additional`.
    Object {
        /// The declared fields, in the spec's order.
        fields: Vec<Field>,
        /// Whether keys not in `fields` are accepted (free-form objects).
        additional: bool,
    },
}

/// One named field of an object shape.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The JSON key.
    pub name: String,
    /// What its value must look like.
    pub shape: Shape,
    /// Whether the key must be present (and not `null`).
    pub required: bool,
}

impl Shape {
    /// The JSON type this shape wants, as a word for messages (`"any"` for [`Shape::Any`]).
    pub fn type_name(&self) -> &'static str {
        match self {
            Shape::Any => "any",
            Shape::String { .. } => "string",
            Shape::Integer => "integer",
            Shape::Number => "number",
            Shape::Boolean => "boolean",
            Shape::Array(_) => "array",
            Shape::Object { .. } => "object",
        }
    }

    /// The field called `name`, when this is an object shape that declares it.
    pub fn field(&self, name: &str) -> Option<&Field> {
        match self {
            Shape::Object { fields, .. } => fields.iter().find(|f| f.name == name),
            _ => None,
        }
    }
}

/// The JSON form written by `tools/gen_catalog.py`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum RawShape {
    // Empty struct variants, not unit ones: serde ignores extra keys on unit variants.
    Any {},
    String {
        #[serde(default, rename = "enum")]
        enum_values: Vec<String>,
        #[serde(default, rename = "maxLength")]
        max_length: Option<u32>,
    },
    Integer {},
    Number {},
    Boolean {},
    Array {
        items: Box<Shape>,
    },
    Object {
        fields: Vec<Field>,
        additional: bool,
    },
}

impl From<RawShape> for Shape {
    fn from(raw: RawShape) -> Self {
        match raw {
            RawShape::Any {} => Shape::Any,
            RawShape::String {
                enum_values,
                max_length,
            } => Shape::String {
                enum_values,
                max_length,
            },
            RawShape::Integer {} => Shape::Integer,
            RawShape::Number {} => Shape::Number,
            RawShape::Boolean {} => Shape::Boolean,
            RawShape::Array { items } => Shape::Array(items),
            RawShape::Object { fields, additional } => Shape::Object { fields, additional },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Shape {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(parse(r#"{"type":"any"}"#), Shape::Any);
        assert_eq!(parse(r#"{"type":"integer"}"#), Shape::Integer);
        assert_eq!(
            parse(r#"{"type":"string","enum":["A"],"maxLength":3}"#),
            Shape::String {
                enum_values: vec!["A".into()],
                max_length: Some(3)
            }
        );
        assert_eq!(
            parse(r#"{"type":"array","items":{"type":"boolean"}}"#),
            Shape::Array(Box::new(Shape::Boolean))
        );
        let object = parse(
            r#"{"type":"object","additional":false,
                "fields":[{"name":"n","required":true,"shape":{"type":"number"}}]}"#,
        );
        assert_eq!(object.field("n").map(|f| f.required), Some(true));
        assert_eq!(object.type_name(), "object");
    }

    #[test]
    fn rejects_unknown_keys_so_generator_drift_shows() {
        assert!(serde_json::from_str::<Shape>(r#"{"type":"integer","min":1}"#).is_err());
        assert!(serde_json::from_str::<Shape>(r#"{"type":"tuple"}"#).is_err());
    }
}
