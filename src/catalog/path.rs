//! Path templates such as `/api/v1/tasks/{taskId}/comments`: splitting them into
//! segments, matching concrete paths against them, and filling them in.
//!
//! Values are percent-encoded as single path segments on the way out and decoded on
//! the way in, so an id can never add, remove or escape a segment. Query strings are
//! not this file's business.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// One `/`-separated piece of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Text that must appear as is.
    Literal(String),
    /// A `{name}` placeholder, filled by one non-empty segment.
    Param(String),
}

/// Splits a template that starts with `/` into its segments.
pub(super) fn parse(template: &str) -> Vec<Segment> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(
            |piece| match piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(piece.to_owned()),
            },
        )
        .collect()
}

/// How well a template matches: one flag per segment, `true` where a literal matched.
///
/// Ranks compare element by element, so at the first segment where two matching
/// templates differ, the literal one wins (`/reports/work-session-events` beats a
/// hypothetical `/reports/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank(Vec<bool>);

/// Matches concrete `segments` against a template; `None` when they don't fit.
pub(super) fn rank(template: &[Segment], segments: &[&str]) -> Option<Rank> {
    if template.len() != segments.len() {
        return None;
    }
    let mut flags = Vec::with_capacity(segments.len());
    for (part, segment) in template.iter().zip(segments) {
        match part {
            Segment::Literal(text) if text == segment => flags.push(true),
            Segment::Param(_) if !segment.is_empty() => flags.push(false),
            _ => return None,
        }
    }
    Some(Rank(flags))
}

/// Picks the better of two candidate matches (see [`Rank`]).
pub(super) fn better(candidate: &Rank, current: Option<&Rank>) -> bool {
    current.is_none_or(|current| candidate.cmp(current) == Ordering::Greater)
}

/// The `(name, decoded value)` pairs of a concrete path that matched `template`.
pub(super) fn params(template: &[Segment], segments: &[&str]) -> Vec<(String, String)> {
    template
        .iter()
        .zip(segments)
        .filter_map(|(part, segment)| match part {
            Segment::Param(name) => Some((name.clone(), decode(segment))),
            Segment::Literal(_) => None,
        })
        .collect()
}

/// Fills every `{name}` of `template` from `lookup`, encoding each value.
pub(super) fn render(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    for part in parse(template) {
        out.push('/');
        match part {
            Segment::Literal(text) => out.push_str(&text),
            Segment::Param(name) => out.push_str(&encode(&name, lookup(&name))?),
        }
    }
    Ok(out)
}

fn encode(name: &str, value: Option<String>) -> Result<String, String> {
    let value = value.ok_or_else(|| format!("missing path parameter `{name}`"))?;
    match value.as_str() {
        "" => Err(format!("path parameter `{name}` is empty")),
        // `.` and `..` would be normalised away by URL parsers, even when encoded.
        "." | ".." => Err(format!("path parameter `{name}` cannot be `{value}`")),
        _ => Ok(encode_segment(&value)),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes; malformed escapes stay as they are, bad UTF-8 is replaced.
pub(super) fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "taskId" => Some("a b/c".to_owned()),
            "commentId" => Some("x@y.com".to_owned()),
            "empty" => Some(String::new()),
            "dots" => Some("..".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn parses_literals_and_params() {
        assert_eq!(
            parse("/api/{id}/x"),
            vec![
                Segment::Literal("api".into()),
                Segment::Param("id".into()),
                Segment::Literal("x".into())
            ]
        );
    }

    #[test]
    fn renders_with_each_value_encoded_as_one_segment() {
        let path = render("/tasks/{taskId}/comments/{commentId}", &lookup).unwrap();
        assert_eq!(path, "/tasks/a%20b%2Fc/comments/x%40y.com");
    }

    #[test]
    fn render_names_the_missing_or_unsafe_param() {
        assert_eq!(
            render("/tasks/{nope}", &lookup).unwrap_err(),
            "missing path parameter `nope`"
        );
        assert_eq!(
            render("/tasks/{empty}", &lookup).unwrap_err(),
            "path parameter `empty` is empty"
        );
        assert_eq!(
            render("/tasks/{dots}", &lookup).unwrap_err(),
            "path parameter `dots` cannot be `..`"
        );
    }

    #[test]
    fn decode_reverses_encode() {
        for value in ["a b/c", "x@y.com", "ünï", "100%"] {
            assert_eq!(decode(&encode_segment(value)), value);
        }
        assert_eq!(decode("50%"), "50%");
        assert_eq!(decode("%zz"), "%zz");
    }

    #[test]
    fn literal_segments_outrank_params() {
        let literal = parse("/reports/work-session-events");
        let param = parse("/reports/{id}");
        let segments = ["reports", "work-session-events"];
        let a = rank(&literal, &segments).unwrap();
        let b = rank(&param, &segments).unwrap();
        assert!(a > b);
        assert!(better(&a, Some(&b)));
        assert!(!better(&b, Some(&a)));
    }

    #[test]
    fn params_never_match_empty_segments() {
        assert!(rank(&parse("/tasks/{id}"), &["tasks", ""]).is_none());
        assert!(rank(&parse("/tasks/{id}"), &["tasks", "a", "b"]).is_none());
    }
}
