//! The filters, tests and functions a template names, checked when it compiles: an unknown
//! name, a wrong number of arguments to one of ours, or a literal time format that cannot
//! work is a compile error (so `validate` reports it), not a failure of every row.
//!
//! minijinja resolves these names only when a template runs, so the template text is
//! scanned here: code inside `{{ }}` and `{% %}` (or the whole of a single expression),
//! string literals skipped; a name after `|` is a filter, after `is` / `is not` a test,
//! and a name followed by `(` (not after `.`) a function.

use crate::diagnostic::did_you_mean;

use super::functions::time_format;

/// minijinja's built-in filters (its `builtins` feature) and ours.
const FILTERS: &[&str] = &[
    "safe",
    "escape",
    "e",
    "lower",
    "upper",
    "title",
    "capitalize",
    "replace",
    "length",
    "count",
    "dictsort",
    "items",
    "reverse",
    "trim",
    "join",
    "split",
    "lines",
    "default",
    "d",
    "round",
    "abs",
    "int",
    "float",
    "attr",
    "first",
    "last",
    "min",
    "max",
    "sort",
    "list",
    "string",
    "bool",
    "batch",
    "slice",
    "sum",
    "indent",
    "select",
    "reject",
    "selectattr",
    "rejectattr",
    "map",
    "groupby",
    "unique",
    "chain",
    "zip",
    "pprint",
    "format",
    "tojson",
    "urlencode", // ours:
    "datetime",
    "format_time",
    "prefixed",
    "prefixed_map",
    "plus_days",
    "plus_hours",
    "plus_minutes",
    "to_objects",
];

/// minijinja's built-in tests.
const TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "safe",
    "escaped",
    "boolean",
    "odd",
    "even",
    "divisibleby",
    "number",
    "integer",
    "int",
    "float",
    "string",
    "sequence",
    "iterable",
    "mapping",
    "startingwith",
    "endingwith",
    "lower",
    "upper",
    "sameas",
    "eq",
    "equalto",
    "ne",
    "lt",
    "lessthan",
    "le",
    "gt",
    "greaterthan",
    "ge",
    "in",
    "true",
    "false",
    "filter",
    "test",
];

/// minijinja's global functions and ours (`caller`, `super` and `loop.cycle` come from
/// the template itself).
const FUNCTIONS: &[&str] = &[
    "range",
    "dict",
    "debug",
    "namespace",
    "caller",
    "super", // ours:
    "gladly_id",
    "stable_id",
    "lookup",
    "lookup_chain",
    "contact_matches",
    "contains_any",
    "now",
    "datetime",
    "format_time",
];

/// Whether a template may use `name` without declaring it: a function, `omit`, `loop`.
pub(super) fn is_global(name: &str) -> bool {
    FUNCTIONS.contains(&name) || matches!(name, "omit" | "loop")
}

/// Words of the template language that may stand before `(`.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "for",
    "set",
    "with",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "recursive",
    "return",
    "import",
    "from",
    "as",
    "include",
    "call",
];

/// How many arguments our own filters (after the piped value) and functions take.
const ARITY: &[(Role, &str, usize, usize)] = &[
    (Role::Filter, "datetime", 0, 1),
    (Role::Filter, "format_time", 1, 2),
    (Role::Filter, "prefixed", 1, 1),
    (Role::Filter, "prefixed_map", 1, 1),
    (Role::Filter, "plus_days", 1, 1),
    (Role::Filter, "plus_hours", 1, 1),
    (Role::Filter, "plus_minutes", 1, 1),
    (Role::Filter, "to_objects", 1, 1),
    (Role::Function, "gladly_id", 0, 0),
    (Role::Function, "lookup", 2, 3),
    (Role::Function, "lookup_chain", 3, 3),
    (Role::Function, "contact_matches", 2, 2),
    (Role::Function, "contains_any", 2, 2),
    (Role::Function, "now", 0, 0),
    (Role::Function, "datetime", 1, 2),
    (Role::Function, "format_time", 2, 3),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Filter,
    Test,
    Function,
}

impl Role {
    fn word(self) -> &'static str {
        match self {
            Role::Filter => "filter",
            Role::Test => "test",
            Role::Function => "function",
        }
    }

    fn known(self) -> &'static [&'static str] {
        match self {
            Role::Filter => FILTERS,
            Role::Test => TESTS,
            Role::Function => FUNCTIONS,
        }
    }
}

/// The first problem with the names `source` uses, if any. `expression` is true when the
/// whole text is one expression (no `{{ }}` around it).
pub(super) fn check(source: &str, expression: bool) -> Result<(), String> {
    let code = code_of(source, expression);
    let macros = defined_macros(&code);
    let bytes = code.as_bytes();
    let mut previous: Vec<&str> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b == b'\'' || b == b'"' {
            at = skip_string(bytes, at);
            previous.push("\"");
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = at;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                at += 1;
            }
            let name = &code[start..at];
            let before = previous.last().copied().unwrap_or("");
            let before2 = previous.len().checked_sub(2).map_or("", |i| previous[i]);
            let called = next_char(bytes, at) == Some(b'(');
            let role = if before == "|" {
                Some(Role::Filter)
            } else if before == "is" || (before == "not" && before2 == "is") {
                (!KEYWORDS.contains(&name)).then_some(Role::Test)
            } else if called && before != "." && !KEYWORDS.contains(&name) {
                (!macros.contains(&name)).then_some(Role::Function)
            } else {
                None
            };
            if let Some(role) = role {
                check_name(role, name)?;
                if called {
                    let args = arguments(&code, at);
                    check_arity(role, name, &args)?;
                    check_time_format(role, name, &args)?;
                } else if role == Role::Filter {
                    // `| plus_days` without parentheses passes no argument.
                    check_arity(role, name, &[])?;
                }
            }
            previous.push(name);
            continue;
        }
        if !b.is_ascii_whitespace() {
            previous.push(match b {
                b'|' => "|",
                b'.' => ".",
                _ => "",
            });
        }
        at += 1;
    }
    Ok(())
}

/// The `row['a column']`-style reads of `source` (a root variable subscripted with a
/// literal) as dotted names (`row.a column`), so they are checked like `row.column`.
pub(super) fn subscripts(source: &str, expression: bool) -> Vec<String> {
    let code = code_of(source, expression);
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for root in ["row", "params", "vars"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(root).map(|i| i + from) {
            from = at + root.len();
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = code[from..].trim_start();
            let Some(inside) = rest.strip_prefix('[') else {
                continue;
            };
            let inside = inside.trim_start();
            let offset = code.len() - inside.len();
            if !matches!(bytes.get(offset), Some(b'\'' | b'"')) {
                continue;
            }
            let end = skip_string(bytes, offset);
            let Some(after) = code[end..].trim_start().strip_prefix(']') else {
                continue;
            };
            // A guarded read (`row['x'] or …`, `| default(…)`, `is defined`, `if row['x']`)
            // is the way to read a column that may be missing: not a required column.
            let after = after.trim_start();
            let words_before: Vec<&str> = code[..at].split_whitespace().rev().take(1).collect();
            let guarded = ["or", "|", "is", "if", "and", "else"]
                .iter()
                .any(|w| after.starts_with(w))
                || words_before
                    .first()
                    .is_some_and(|w| matches!(*w, "if" | "or" | "and" | "not" | "elif"));
            if let Some(name) = string_literal(&code[offset..end])
                && !guarded
                && !tested(&code, &name, root)
            {
                out.push(format!("{root}.{name}"));
            }
        }
    }
    out
}

/// Whether the code tests for the column first: `'name' in row`.
fn tested(code: &str, name: &str, root: &str) -> bool {
    ['\'', '"'].iter().any(|q| {
        let needle = format!("{q}{name}{q} in {root}");
        code.contains(&needle)
    })
}

fn check_name(role: Role, name: &str) -> Result<(), String> {
    if role.known().contains(&name) {
        return Ok(());
    }
    let hint = did_you_mean(name, role.known().iter().copied())
        .map(|m| format!(" (did you mean `{m}`?)"))
        .unwrap_or_default();
    Err(format!("unknown {} `{name}`{hint}", role.word()))
}

fn check_arity(role: Role, name: &str, args: &[&str]) -> Result<(), String> {
    let Some((_, _, min, max)) = ARITY.iter().find(|(r, n, ..)| *r == role && *n == name) else {
        return Ok(());
    };
    let given = args.len();
    if given >= *min && given <= *max {
        return Ok(());
    }
    let wanted = if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    };
    let piped = if role == Role::Filter {
        " after the value before `|`"
    } else {
        ""
    };
    Err(format!(
        "{} `{name}` takes {wanted} argument{}{piped}, not {given}",
        role.word(),
        if *max == 1 { "" } else { "s" }
    ))
}

/// A literal format given to `format_time` must be one it can print.
fn check_time_format(role: Role, name: &str, args: &[&str]) -> Result<(), String> {
    if name != "format_time" || role == Role::Test {
        return Ok(());
    }
    let index = usize::from(role == Role::Function);
    let Some(literal) = args.get(index).and_then(|a| string_literal(a)) else {
        return Ok(());
    };
    time_format(&literal)
        .map(|_| ())
        .map_err(|e| e.detail().map_or_else(|| e.to_string(), str::to_owned))
}

/// The code parts of a template: everything for an expression; else the insides of
/// `{{ }}` and `{% %}` (comments dropped), each followed by a space.
fn code_of(source: &str, expression: bool) -> String {
    if expression {
        return source.to_owned();
    }
    let mut out = String::new();
    let mut rest = source;
    while let Some(open) = rest.find(['{']) {
        // `{% raw %}…{% endraw %}` is text, not code.
        let tail = &rest[open..];
        if let Some(after) = tail.strip_prefix("{%")
            && after.trim_start_matches(['-', ' ']).starts_with("raw")
            && let Some(end) = tail.find("endraw")
        {
            rest = &tail[end..];
            rest = rest.find("%}").map_or("", |i| &rest[i + 2..]);
            continue;
        }
        let tail = &rest[open..];
        let close = if tail.starts_with("{{") {
            "}}"
        } else if tail.starts_with("{%") {
            "%}"
        } else if tail.starts_with("{#") {
            "#}"
        } else {
            rest = &rest[open + 1..];
            continue;
        };
        let body = &tail[2..];
        let end = body.find(close).unwrap_or(body.len());
        if close != "#}" {
            out.push_str(body[..end].trim_matches('-'));
            out.push(' ');
        }
        rest = &body[(end + 2).min(body.len())..];
    }
    out
}

/// Names defined by `{% macro name(...) %}`, callable like functions.
fn defined_macros(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("macro ") {
        let after = rest[at + "macro ".len()..].trim_start();
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// The byte after a string literal starting at `at`.
fn skip_string(bytes: &[u8], at: usize) -> usize {
    let quote = bytes[at];
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn next_char(bytes: &[u8], at: usize) -> Option<u8> {
    bytes[at..]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// The top-level arguments of the call whose name ends at `at` (its `(` follows).
fn arguments(code: &str, at: usize) -> Vec<&str> {
    let bytes = code.as_bytes();
    let Some(open) = (at..bytes.len()).find(|&i| bytes[i] == b'(') else {
        return Vec::new();
    };
    let mut args = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, open + 1, open + 1);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b')' => {
                let last = code[start..i].trim();
                if !last.is_empty() || !args.is_empty() {
                    args.push(last);
                }
                return args;
            }
            b',' if depth == 0 => {
                args.push(code[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    args
}

/// The text of an argument that is exactly one string literal without escapes.
fn string_literal(arg: &str) -> Option<String> {
    let quote = arg.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = arg.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn known_names_pass_and_unknown_ones_are_named_with_a_suggestion() {
        assert_eq!(check("row.a | lower | plus_days(1)", true), Ok(()));
        assert_eq!(check("x is defined and y is not none", true), Ok(()));
        assert_eq!(
            check("{{ lookup('inboxes', row.inbox) }} {{ loop.index }}", false),
            Ok(())
        );
        assert_eq!(
            check("row.a | plus_day(1)", true),
            Err("unknown filter `plus_day` (did you mean `plus_days`?)".to_owned())
        );
        assert_eq!(
            check("{% if row.a is definde %}x{% endif %}", false),
            Err("unknown test `definde` (did you mean `defined`?)".to_owned())
        );
        assert_eq!(
            check("{{ lookp('a', 'b') }}", false),
            Err("unknown function `lookp` (did you mean `lookup`?)".to_owned())
        );
        // Methods, strings and comments are not names to check.
        assert_eq!(check("row.a.split(',') | join('|')", true), Ok(()));
        assert_eq!(check("{# nope() #}{{ 'bogus(' ~ row.a }}", false), Ok(()));
        assert_eq!(
            check("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1) }}", false),
            Ok(())
        );
    }

    #[test]
    fn our_functions_check_their_arguments_and_literal_formats() {
        assert_eq!(
            check("row.at | plus_days(1, 2)", true),
            Err("filter `plus_days` takes 1 argument after the value before `|`, not 2".to_owned())
        );
        assert_eq!(
            check("lookup_chain('a', row.b)", true),
            Err("function `lookup_chain` takes 3 arguments, not 2".to_owned())
        );
        assert!(
            check("row.at | format_time('%Q')", true)
                .unwrap_err()
                .contains("`%Q` is not a valid time format")
        );
        assert!(check("format_time(row.at, '%Y %Q', 'UTC')", true).is_err());
        assert_eq!(
            check("row.at | format_time('%Y-%m-%d', 'UTC')", true),
            Ok(())
        );
        assert_eq!(check("row.at | format_time(row.fmt)", true), Ok(()));
    }
}
