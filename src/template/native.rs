//! Native evaluation of the simple part of an expression, straight over a JSON row.
//!
//! Most templates a job runs per row are a path, a comparison, a literal or a boolean of
//! those (`row.type == 'CONTACT/STARTED' and row.initiator.type == 'AGENT'`). Handing each
//! row to the template engine means building template values for it and interpreting the
//! expression; here the expression is parsed once into an [`Expr`] and evaluated over
//! borrowed JSON. Anything else (a filter, a function call, arithmetic, a value whose
//! semantics are subtle, like an attribute of an undefined value) is [`Expr::Opaque`]:
//! reaching it during evaluation gives [`Fallback`], and the caller renders that row with
//! the template engine as before. So a result from here is always the engine's result; a
//! differential test checks that over a corpus of expressions and rows.

use serde_json::{Map, Value as Json};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A literal value (`'x'`, `3`, `true`, `none`).
    Lit(Json),
    /// `root.a.b` / `root['a'][0]`: `root` is `row` or a global.
    Path(String, Vec<Seg>),
    /// `[a, b]`.
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `a == b` (`true`) or `a != b` (`false`).
    Eq(Box<Expr>, Box<Expr>, bool),
    /// `a in b` (`true`) or `a not in b` (`false`).
    In(Box<Expr>, Box<Expr>, bool),
    /// `omit`: the body key is left out.
    Omit,
    /// The whole row, as the input of a filter below.
    Row,
    /// `input | name(args)` for the filters evaluated here.
    Filter(Filter, Box<Expr>, Vec<Expr>),
    /// `stable_id(args)`.
    StableId(Vec<Expr>),
    /// What this module does not evaluate.
    Opaque,
}

/// The filters evaluated natively (the engine's versions live in `functions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    Prefixed,
    PrefixedMap,
    ToObjects,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
    /// `[expr]` with a computed key.
    Dynamic(Box<Expr>),
}

/// The template engine must evaluate this row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// A value met while evaluating.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Undef,
    Json(&'a Json),
    /// A value made here (by a filter or function).
    Owned(Json),
    Bool(bool),
    List(Vec<Val<'a>>),
    Omit,
}

/// What an expression reads: the row, and the globals (`params`, `job`) as JSON.
pub(crate) struct Env<'a> {
    pub row: RowRef<'a>,
    pub globals: &'a Map<String, Json>,
}

/// A row as native evaluation reads it: a JSON object, or a row read in part.
#[derive(Clone, Copy)]
pub(crate) enum RowRef<'a> {
    Map(&'a Map<String, Json>),
    Partial(&'a dyn Partial),
}

/// A row read only at some paths (`source::PartialRow`), read a key at a time.
pub(crate) trait Partial: Sync {
    /// What is at `key` of the object at `node` (`None`: the row itself).
    fn get(&self, node: Option<usize>, key: &str) -> Reach<'_>;

    /// The row's values at the paths it was read at, as an object.
    fn to_map(&self) -> Map<String, Json>;
}

/// One step into a [`Partial`] row.
pub(crate) enum Reach<'a> {
    /// The key is not in the row.
    Absent,
    /// An object; its keys are found with [`Partial::get`] at this node.
    Object(usize),
    /// The value there.
    Value(&'a Json),
    /// The path was not read (not expected: every path read is projected).
    NotRead,
}

impl<'a> RowRef<'a> {
    /// The value at a path of keys (`content.to.1` reaches into lists too), as
    /// `output::value_at` finds it in a full row.
    pub(crate) fn value_at(self, path: &[String]) -> Option<&'a Json> {
        match self {
            RowRef::Map(map) => crate::output::value_at(map, path),
            RowRef::Partial(row) => {
                let mut node = None;
                for (i, key) in path.iter().enumerate() {
                    match row.get(node, key) {
                        Reach::Absent | Reach::NotRead => return None,
                        Reach::Object(n) => node = Some(n),
                        Reach::Value(v) => return crate::output::json_at(v, &path[i + 1..]),
                    }
                }
                None
            }
        }
    }
}

impl Val<'_> {
    /// The engine's truthiness: empty text, lists and objects, zero, none and undefined
    /// are false.
    pub(crate) fn truthy(&self) -> bool {
        match *self {
            Val::Undef => false,
            Val::Bool(b) => b,
            Val::List(ref items) => !items.is_empty(),
            // `omit` is an object without entries to count: the engine calls it true.
            Val::Omit => true,
            Val::Json(_) | Val::Owned(_) => self.as_json().is_some_and(json_truthy),
        }
    }
}

/// The engine's truthiness of a JSON value.
fn json_truthy(j: &Json) -> bool {
    match j {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                i != 0
            } else if let Some(u) = n.as_u64() {
                u != 0
            } else {
                n.as_f64().is_none_or(|f| f != 0.0)
            }
        }
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

impl Val<'_> {
    fn as_json(&self) -> Option<&Json> {
        match self {
            Val::Json(j) => Some(*j),
            Val::Owned(j) => Some(j),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Json(Json::String(s)) | Val::Owned(Json::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON for a request body, when it converts exactly as the engine's
    /// value would: text, none, booleans and what the filters here made. `Ok(None)` is
    /// `omit`.
    pub(crate) fn into_body(self) -> Result<Option<Json>, Fallback> {
        match self {
            Val::Json(j @ (Json::String(_) | Json::Null | Json::Bool(_))) => Ok(Some(j.clone())),
            Val::Owned(j) => Ok(Some(j)),
            Val::Bool(b) => Ok(Some(Json::Bool(b))),
            Val::Omit => Ok(None),
            _ => Err(Fallback),
        }
    }
}

/// `a == b` where the answer is certain; other pairs go to the engine.
fn equal(a: &Val<'_>, b: &Val<'_>) -> Result<bool, Fallback> {
    match (a, b) {
        (Val::Json(Json::String(x)), Val::Json(Json::String(y))) => Ok(x == y),
        // Comparing an undefined value is an error in the engine: only none is certain.
        (Val::Json(Json::String(_)), Val::Json(Json::Null))
        | (Val::Json(Json::Null), Val::Json(Json::String(_))) => Ok(false),
        (Val::Bool(x) | Val::Json(Json::Bool(x)), Val::Bool(y) | Val::Json(Json::Bool(y))) => {
            Ok(x == y)
        }
        _ => Err(Fallback),
    }
}

impl Expr {
    /// Evaluates over `env`.
    ///
    /// # Errors
    /// [`Fallback`] when the expression reaches something the engine must evaluate.
    pub(crate) fn eval<'a>(&'a self, env: &Env<'a>) -> Result<Val<'a>, Fallback> {
        match self {
            Expr::Lit(j) => Ok(Val::Json(j)),
            Expr::Path(root, segs) => {
                let (mut at, rest) = if is_row(root) {
                    match env.row {
                        RowRef::Map(map) => (
                            field(map, segs_first_key(segs)?).map_or(Val::Undef, Val::Json),
                            &segs[1..],
                        ),
                        RowRef::Partial(row) => partial_path(row, segs, env)?,
                    }
                } else {
                    let Some(v) = env.globals.get(root) else {
                        return Err(Fallback);
                    };
                    (step(&Val::Json(v), &segs[0], env)?, &segs[1..])
                };
                for seg in rest {
                    at = step(&at, seg, env)?;
                }
                Ok(at)
            }
            Expr::List(items) => Ok(Val::List(
                items
                    .iter()
                    .map(|e| match e.eval(env)? {
                        // How the engine carries an undefined item is its own business.
                        Val::Undef => Err(Fallback),
                        v => Ok(v),
                    })
                    .collect::<Result<_, _>>()?,
            )),
            Expr::Not(e) => Ok(Val::Bool(!plain(e.eval(env)?)?.truthy())),
            Expr::And(a, b) => {
                let left = plain(a.eval(env)?)?;
                if left.truthy() { b.eval(env) } else { Ok(left) }
            }
            Expr::Or(a, b) => {
                let left = plain(a.eval(env)?)?;
                if left.truthy() { Ok(left) } else { b.eval(env) }
            }
            Expr::Omit => Ok(Val::Omit),
            Expr::Filter(filter, input, args) => filter_of(*filter, input, args, env),
            Expr::StableId(args) => {
                let mut parts = Vec::with_capacity(args.len());
                for arg in args {
                    match arg.eval(env)? {
                        Val::Json(Json::String(s)) => {
                            parts.push(std::borrow::Cow::Borrowed(s.as_str()));
                        }
                        Val::Owned(Json::String(s)) => parts.push(std::borrow::Cow::Owned(s)),
                        _ => return Err(Fallback),
                    }
                }
                // No part, or only empty ones, is the engine's error to give.
                if parts.iter().all(|p| p.is_empty()) {
                    return Err(Fallback);
                }
                let parts: Vec<&str> = parts.iter().map(AsRef::as_ref).collect();
                Ok(Val::Owned(Json::String(super::functions::stable_id(
                    &parts,
                ))))
            }
            Expr::Eq(a, b, same) => Ok(Val::Bool(equal(&a.eval(env)?, &b.eval(env)?)? == *same)),
            Expr::In(a, b, yes) => {
                let needle = a.eval(env)?;
                let found = match b.eval(env)? {
                    Val::List(items) => any_equal(&needle, items.iter())?,
                    Val::Json(Json::Array(items)) => {
                        let mut found = false;
                        for item in items {
                            if equal(&needle, &Val::Json(item))? {
                                found = true;
                                break;
                            }
                        }
                        found
                    }
                    Val::Json(Json::String(hay)) => hay.contains(needle.as_str().ok_or(Fallback)?),
                    Val::Json(Json::Object(map)) => {
                        map.contains_key(needle.as_str().ok_or(Fallback)?)
                    }
                    _ => return Err(Fallback),
                };
                Ok(Val::Bool(found == *yes))
            }
            Expr::Row | Expr::Opaque => Err(Fallback),
        }
    }

    /// True when no part of it is [`Expr::Opaque`].
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Expr::Lit(_) | Expr::Omit => true,
            Expr::Opaque | Expr::Row => false,
            Expr::Filter(_, input, args) => input.is_closed() && args.iter().all(Expr::is_closed),
            Expr::StableId(args) => args.iter().all(Expr::is_closed),
            Expr::Path(_, segs) => segs.iter().all(|s| match s {
                Seg::Dynamic(e) => e.is_closed(),
                _ => true,
            }),
            Expr::List(items) => items.iter().all(Expr::is_closed),
            Expr::Not(e) => e.is_closed(),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Eq(a, b, _) | Expr::In(a, b, _) => {
                a.is_closed() && b.is_closed()
            }
        }
    }

    /// The row paths it reads (`["content", "agentId"]`); `None` when one is computed.
    pub(crate) fn row_paths(&self, out: &mut Vec<Vec<String>>) -> Option<()> {
        match self {
            Expr::Lit(_) | Expr::Opaque | Expr::Omit => {}
            Expr::Row => return None,
            Expr::Filter(_, input, args) => {
                input.row_paths(out)?;
                for e in args {
                    e.row_paths(out)?;
                }
            }
            Expr::StableId(args) => {
                for e in args {
                    e.row_paths(out)?;
                }
            }
            Expr::Path(root, segs) => {
                for s in segs {
                    if let Seg::Dynamic(e) = s {
                        e.row_paths(out)?;
                    }
                }
                if root == "row" {
                    let mut path = Vec::new();
                    for s in segs {
                        match s {
                            Seg::Key(k) => path.push(k.clone()),
                            // Lists are kept whole: the path stops at the list.
                            Seg::Index(_) => break,
                            Seg::Dynamic(_) => return None,
                        }
                    }
                    out.push(path);
                }
            }
            Expr::List(items) => {
                for e in items {
                    e.row_paths(out)?;
                }
            }
            Expr::Not(e) => e.row_paths(out)?,
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Eq(a, b, _) | Expr::In(a, b, _) => {
                a.row_paths(out)?;
                b.row_paths(out)?;
            }
        }
        Some(())
    }

    /// The expression with the globals' values put in and what they decide worked out:
    /// `params.file != 'x' or row.a` with `file` = `x` becomes `row.a`. Row paths stay.
    #[must_use]
    pub(crate) fn fold(&self, globals: &Map<String, Json>) -> Expr {
        let empty = Map::new();
        let constant = |e: &Expr| -> Option<Json> {
            if !e.is_closed() || e.reads_row() {
                return None;
            }
            let env = Env {
                row: RowRef::Map(&empty),
                globals,
            };
            match e.eval(&env).ok()? {
                Val::Json(j) => Some(j.clone()),
                Val::Bool(b) => Some(Json::Bool(b)),
                Val::Owned(_) | Val::Undef | Val::List(_) | Val::Omit => None,
            }
        };
        let folded = match self {
            Expr::Path(root, _) if root != "row" => {
                return match constant(self) {
                    Some(j) => Expr::Lit(j),
                    None if globals.contains_key(root) => self.clone(),
                    None => Expr::Opaque,
                };
            }
            Expr::Not(e) => Expr::Not(Box::new(e.fold(globals))),
            Expr::And(a, b) => {
                let a = a.fold(globals);
                match lit_truth(&a) {
                    Some(false) => return a,
                    Some(true) => return b.fold(globals),
                    None => Expr::And(Box::new(a), Box::new(b.fold(globals))),
                }
            }
            Expr::Or(a, b) => {
                let a = a.fold(globals);
                match lit_truth(&a) {
                    Some(true) => return a,
                    Some(false) => return b.fold(globals),
                    None => Expr::Or(Box::new(a), Box::new(b.fold(globals))),
                }
            }
            Expr::Eq(a, b, s) => Expr::Eq(Box::new(a.fold(globals)), Box::new(b.fold(globals)), *s),
            Expr::In(a, b, s) => Expr::In(Box::new(a.fold(globals)), Box::new(b.fold(globals)), *s),
            Expr::List(items) => Expr::List(items.iter().map(|e| e.fold(globals)).collect()),
            other => return other.clone(),
        };
        constant(&folded).map_or(folded, Expr::Lit)
    }

    fn reads_row(&self) -> bool {
        let mut paths = Vec::new();
        self.row_paths(&mut paths).is_none() || !paths.is_empty()
    }
}

/// `omit` takes part in no operation here: what the engine makes of `omit and x` is its
/// own business.
fn plain(v: Val<'_>) -> Result<Val<'_>, Fallback> {
    match v {
        Val::Omit => Err(Fallback),
        v => Ok(v),
    }
}

/// A string literal argument.
fn text_arg(args: &[Expr], i: usize) -> Result<&str, Fallback> {
    match args.get(i) {
        Some(Expr::Lit(Json::String(s))) => Ok(s),
        _ => Err(Fallback),
    }
}

/// A row cell as the engine's `prefixed` sees it: `None` when blank (skipped), the text
/// otherwise; other kinds of values are left to the engine.
fn cell(value: &Json) -> Result<Option<&Json>, Fallback> {
    match value {
        Json::Null => Ok(None),
        Json::String(s) if s.trim().is_empty() => Ok(None),
        Json::String(_) => Ok(Some(value)),
        _ => Err(Fallback),
    }
}

fn filter_of<'a>(
    filter: Filter,
    input: &'a Expr,
    args: &'a [Expr],
    env: &Env<'a>,
) -> Result<Val<'a>, Fallback> {
    if args.len() != 1 {
        return Err(Fallback);
    }
    let arg = text_arg(args, 0)?;
    match filter {
        Filter::Prefixed | Filter::PrefixedMap => {
            if *input != Expr::Row {
                return Err(Fallback);
            }
            let RowRef::Map(row) = env.row else {
                return Err(Fallback);
            };
            if filter == Filter::Prefixed {
                let mut out = Vec::new();
                for (name, value) in row {
                    if name.starts_with(arg)
                        && let Some(v) = cell(value)?
                    {
                        out.push(v.clone());
                    }
                }
                Ok(Val::Owned(Json::Array(out)))
            } else {
                let mut out = std::collections::BTreeMap::new();
                for (name, value) in row {
                    if let Some(rest) = name.strip_prefix(arg)
                        && let Some(v) = cell(value)?
                    {
                        out.insert(rest, v);
                    }
                }
                Ok(Val::Owned(Json::Object(
                    out.into_iter()
                        .map(|(k, v)| (k.to_owned(), v.clone()))
                        .collect(),
                )))
            }
        }
        Filter::ToObjects => {
            let wrap = |item: Json| {
                let mut object = Map::with_capacity(1);
                object.insert(arg.to_owned(), item);
                Json::Object(object)
            };
            let items: Vec<Json> = match input.eval(env)? {
                Val::Owned(Json::Array(items)) => items.into_iter().map(wrap).collect(),
                Val::Json(Json::Array(items))
                    if items
                        .iter()
                        .all(|i| matches!(i, Json::String(_) | Json::Null | Json::Bool(_))) =>
                {
                    items.iter().cloned().map(wrap).collect()
                }
                _ => return Err(Fallback),
            };
            Ok(Val::Owned(Json::Array(items)))
        }
    }
}

fn lit_truth(e: &Expr) -> Option<bool> {
    match e {
        Expr::Lit(j) => Some(Val::Json(j).truthy()),
        _ => None,
    }
}

/// One key of an object: small objects (most rows and their parts) are scanned, which is
/// cheaper than hashing the key.
fn field<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// True for the root `row` (compared without a call: it runs for every path of every row).
fn is_row(root: &str) -> bool {
    matches!(root.as_bytes(), [b'r', b'o', b'w'])
}

/// Follows `segs` into a row read in part as far as its objects go: the value reached and
/// the steps left to take in it.
fn partial_path<'a>(
    row: &'a dyn Partial,
    segs: &'a [Seg],
    env: &Env<'a>,
) -> Result<(Val<'a>, &'a [Seg]), Fallback> {
    let mut node = None;
    for (i, seg) in segs.iter().enumerate() {
        let owned;
        let key = match seg {
            Seg::Key(k) => k.as_str(),
            Seg::Dynamic(e) => match e.eval(env)? {
                Val::Json(Json::String(s)) => s.as_str(),
                Val::Owned(Json::String(s)) => {
                    owned = s;
                    owned.as_str()
                }
                _ => return Err(Fallback),
            },
            // An item of an object: the engine's business.
            Seg::Index(_) => return Err(Fallback),
        };
        match row.get(node, key) {
            Reach::Absent => return Ok((Val::Undef, &segs[i + 1..])),
            Reach::Object(n) => node = Some(n),
            Reach::Value(v) => return Ok((Val::Json(v), &segs[i + 1..])),
            Reach::NotRead => return Err(Fallback),
        }
    }
    // An object that was not kept whole: not expected, as a path read is kept whole.
    Err(Fallback)
}

fn segs_first_key(segs: &[Seg]) -> Result<&str, Fallback> {
    match segs.first() {
        Some(Seg::Key(k)) => Ok(k),
        _ => Err(Fallback),
    }
}

fn any_equal<'a, 'b: 'a>(
    needle: &Val<'_>,
    items: impl Iterator<Item = &'a Val<'b>>,
) -> Result<bool, Fallback> {
    for item in items {
        if equal(needle, item)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One path step from `at`; the engine decides anything but a key of an object or an
/// item of a list.
fn step<'a>(at: &Val<'a>, seg: &'a Seg, env: &Env<'a>) -> Result<Val<'a>, Fallback> {
    let &Val::Json(value) = at else {
        return Err(Fallback);
    };
    let key_owned;
    let seg = match seg {
        Seg::Dynamic(e) => match e.eval(env)? {
            Val::Json(Json::String(s)) => {
                key_owned = Seg::Key(s.clone());
                &key_owned
            }
            _ => return Err(Fallback),
        },
        other => other,
    };
    match (value, seg) {
        (Json::Object(map), Seg::Key(k)) => Ok(field(map, k).map_or(Val::Undef, Val::Json)),
        (Json::Array(items), Seg::Index(i)) => Ok(items.get(*i).map_or(Val::Undef, Val::Json)),
        _ => Err(Fallback),
    }
}

// ---------------------------------------------------------------------------------------
// Parsing: the engine's expression grammar, enough to know the structure around the parts
// evaluated here. Whatever this parser does not know fails the parse, and the template is
// then only ever evaluated by the engine.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    Op(&'static str),
}

const OPS: [&str; 25] = [
    "**", "//", "==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|",
    "~", "+", "-", "*", "/", "%", "=",
];

fn tokenize(src: &str) -> Option<Vec<Tok>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Name(src[start..i].to_owned()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let float = i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit();
            if float || (i < bytes.len() && matches!(bytes[i], b'e' | b'E' | b'_')) {
                // Floats and numbers with separators or exponents: rare in manifests.
                if !float {
                    return None;
                }
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if i < bytes.len() && matches!(bytes[i], b'e' | b'E' | b'_') {
                    return None;
                }
                out.push(Tok::Float(src[start..i].parse().ok()?));
            } else {
                out.push(Tok::Int(src[start..i].parse().ok()?));
            }
        } else if c == b'\'' || c == b'"' {
            let mut text = String::new();
            i += 1;
            loop {
                let ch = src[i..].chars().next()?;
                i += ch.len_utf8();
                match ch {
                    _ if ch as u32 == u32::from(c) => break,
                    '\\' => {
                        let esc = src[i..].chars().next()?;
                        i += esc.len_utf8();
                        text.push(match esc {
                            '\\' => '\\',
                            '\'' => '\'',
                            '"' => '"',
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            _ => return None,
                        });
                    }
                    _ => text.push(ch),
                }
            }
            out.push(Tok::Str(text));
        } else {
            let op = OPS.iter().find(|op| src[i..].starts_with(**op))?;
            i += op.len();
            out.push(Tok::Op(op));
        }
    }
    Some(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn peek_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == name)
    }

    fn peek_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn eat_name(&mut self, name: &str) -> bool {
        let yes = self.peek_name(name);
        self.at += usize::from(yes);
        yes
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.peek_op(op);
        self.at += usize::from(yes);
        yes
    }

    fn expect_op(&mut self, op: &str) -> Option<()> {
        self.eat_op(op).then_some(())
    }

    fn expr(&mut self) -> Option<Expr> {
        let value = self.or()?;
        if self.eat_name("if") {
            self.or()?;
            if self.eat_name("else") {
                self.expr()?;
            }
            return Some(Expr::Opaque);
        }
        Some(value)
    }

    fn or(&mut self) -> Option<Expr> {
        let mut left = self.and()?;
        while self.eat_name("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut left = self.not()?;
        while self.eat_name("and") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Some(left)
    }

    fn not(&mut self) -> Option<Expr> {
        if self.eat_name("not") {
            return Some(Expr::Not(Box::new(self.not()?)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Option<Expr> {
        let mut left = self.arith()?;
        loop {
            left = if self.eat_op("==") {
                Expr::Eq(Box::new(left), Box::new(self.arith()?), true)
            } else if self.eat_op("!=") {
                Expr::Eq(Box::new(left), Box::new(self.arith()?), false)
            } else if self.eat_name("in") {
                Expr::In(Box::new(left), Box::new(self.arith()?), true)
            } else if self.peek_name("not")
                && matches!(self.toks.get(self.at + 1), Some(Tok::Name(n)) if n == "in")
            {
                self.at += 2;
                Expr::In(Box::new(left), Box::new(self.arith()?), false)
            } else if ["<", ">", "<=", ">="].iter().any(|op| self.peek_op(op)) {
                self.at += 1;
                self.arith()?;
                Expr::Opaque
            } else {
                return Some(left);
            };
        }
    }

    /// `~ + - * / // % **`: all evaluated by the engine; they bind tighter than comparisons.
    fn arith(&mut self) -> Option<Expr> {
        let left = self.unary()?;
        let mut opaque = false;
        while ["~", "+", "-", "*", "/", "//", "%", "**"]
            .iter()
            .any(|op| self.peek_op(op))
        {
            self.at += 1;
            self.unary()?;
            opaque = true;
        }
        Some(if opaque { Expr::Opaque } else { left })
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.eat_op("-") {
            return Some(match self.unary()? {
                Expr::Lit(Json::Number(n)) if n.as_i64().is_some_and(|i| i > 0) => {
                    Expr::Lit(Json::from(-n.as_i64().unwrap_or_default()))
                }
                _ => Expr::Opaque,
            });
        }
        if self.eat_op("+") {
            self.unary()?;
            return Some(Expr::Opaque);
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Option<Expr> {
        let mut value = self.primary()?;
        loop {
            if self.eat_op(".") {
                let seg = match self.peek()?.clone() {
                    Tok::Name(n) => Seg::Key(n),
                    Tok::Int(i) => Seg::Index(usize::try_from(i).ok()?),
                    _ => return None,
                };
                self.at += 1;
                value = push_seg(value, seg);
            } else if self.eat_op("[") {
                if self.eat_op(":") {
                    self.slice_rest()?;
                    value = Expr::Opaque;
                    continue;
                }
                let index = self.expr()?;
                if self.eat_op(":") {
                    self.slice_rest()?;
                    value = Expr::Opaque;
                    continue;
                }
                self.expect_op("]")?;
                let seg = match index {
                    Expr::Lit(Json::String(s)) => Seg::Key(s),
                    Expr::Lit(Json::Number(n)) => {
                        let Some(i) = n.as_u64() else {
                            value = Expr::Opaque;
                            continue;
                        };
                        Seg::Index(usize::try_from(i).ok()?)
                    }
                    Expr::Opaque => {
                        value = Expr::Opaque;
                        continue;
                    }
                    other => Seg::Dynamic(Box::new(other)),
                };
                value = push_seg(value, seg);
            } else if self.peek_op("(") {
                let (args, keywords) = self.args()?;
                value = match &value {
                    Expr::Path(name, segs)
                        if name == "stable_id" && segs.is_empty() && !keywords =>
                    {
                        Expr::StableId(args)
                    }
                    _ => Expr::Opaque,
                };
            } else if self.eat_op("|") {
                let name = self.name()?;
                let (args, keywords) = if self.peek_op("(") {
                    self.args()?
                } else {
                    (Vec::new(), false)
                };
                let filter = match name.as_str() {
                    "prefixed" => Some(Filter::Prefixed),
                    "prefixed_map" => Some(Filter::PrefixedMap),
                    "to_objects" => Some(Filter::ToObjects),
                    _ => None,
                };
                value = match filter {
                    Some(filter) if value != Expr::Opaque && !keywords => {
                        Expr::Filter(filter, Box::new(value), args)
                    }
                    _ => Expr::Opaque,
                };
            } else if self.eat_name("is") {
                self.eat_name("not");
                self.name()?;
                if self.peek_op("(") {
                    self.args()?;
                } else if matches!(self.peek(), Some(Tok::Str(_) | Tok::Int(_) | Tok::Float(_))) {
                    self.primary()?;
                }
                value = Expr::Opaque;
            } else {
                return Some(value);
            }
        }
    }

    fn slice_rest(&mut self) -> Option<()> {
        loop {
            if self.eat_op("]") {
                return Some(());
            }
            if !self.eat_op(":") {
                self.expr()?;
            }
        }
    }

    fn name(&mut self) -> Option<String> {
        match self.peek()?.clone() {
            Tok::Name(n) => {
                self.at += 1;
                Some(n)
            }
            _ => None,
        }
    }

    /// `( a, b, key=c )`: the positional arguments, and whether there are keyword ones.
    fn args(&mut self) -> Option<(Vec<Expr>, bool)> {
        self.expect_op("(")?;
        let (mut args, mut keywords) = (Vec::new(), false);
        if self.eat_op(")") {
            return Some((args, keywords));
        }
        loop {
            if matches!(self.peek(), Some(Tok::Name(_)))
                && matches!(self.toks.get(self.at + 1), Some(Tok::Op("=")))
            {
                self.at += 2;
                keywords = true;
            }
            args.push(self.expr()?);
            if self.eat_op(")") {
                return Some((args, keywords));
            }
            self.expect_op(",")?;
            if self.eat_op(")") {
                return Some((args, keywords));
            }
        }
    }

    fn primary(&mut self) -> Option<Expr> {
        let tok = self.peek()?.clone();
        self.at += 1;
        Some(match tok {
            Tok::Str(s) => Expr::Lit(Json::String(s)),
            Tok::Int(i) => Expr::Lit(Json::from(i)),
            Tok::Float(_) => Expr::Opaque,
            Tok::Name(n) => match n.as_str() {
                "true" | "True" => Expr::Lit(Json::Bool(true)),
                "false" | "False" => Expr::Lit(Json::Bool(false)),
                "none" | "None" => Expr::Lit(Json::Null),
                "and" | "or" | "not" | "in" | "is" | "if" | "else" => return None,
                _ => Expr::Path(n, Vec::new()),
            },
            Tok::Op("(") => {
                let inner = self.expr()?;
                if self.eat_op(",") {
                    while !self.eat_op(")") {
                        self.expr()?;
                        if !self.eat_op(",") {
                            self.expect_op(")")?;
                            break;
                        }
                    }
                    return Some(Expr::Opaque);
                }
                self.expect_op(")")?;
                inner
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.eat_op("]") {
                    items.push(self.expr()?);
                    if !self.eat_op(",") {
                        self.expect_op("]")?;
                        break;
                    }
                }
                if items.contains(&Expr::Opaque) {
                    Expr::Opaque
                } else {
                    Expr::List(items)
                }
            }
            Tok::Op("{") => {
                while !self.eat_op("}") {
                    self.expr()?;
                    self.expect_op(":")?;
                    self.expr()?;
                    if !self.eat_op(",") {
                        self.expect_op("}")?;
                        break;
                    }
                }
                Expr::Opaque
            }
            Tok::Op(_) => return None,
        })
    }
}

/// Adds a step to a path; a bare name is a path with no step yet.
fn push_seg(value: Expr, seg: Seg) -> Expr {
    match value {
        Expr::Path(root, mut segs) => {
            segs.push(seg);
            Expr::Path(root, segs)
        }
        _ => Expr::Opaque,
    }
}

/// Parses the inner text of a `{{ … }}`; `None` when this module cannot follow it.
pub(crate) fn parse(src: &str) -> Option<Expr> {
    let mut parser = Parser {
        toks: tokenize(src)?,
        at: 0,
    };
    let expr = parser.expr()?;
    if parser.at != parser.toks.len() {
        return None;
    }
    Some(finish(expr))
}

/// Bare names become what they mean: `row` alone and names without a step are left to
/// the engine (a whole row, a function, `omit`, a loop variable).
fn finish(expr: Expr) -> Expr {
    let b = |e: Box<Expr>| Box::new(finish(*e));
    match expr {
        Expr::Path(ref root, ref segs) if segs.is_empty() => match root.as_str() {
            "row" => Expr::Row,
            "omit" => Expr::Omit,
            _ => Expr::Opaque,
        },
        Expr::Filter(f, input, args) => {
            let input = finish(*input);
            let args: Vec<Expr> = args.into_iter().map(finish).collect();
            if input == Expr::Opaque || args.contains(&Expr::Opaque) {
                Expr::Opaque
            } else {
                Expr::Filter(f, Box::new(input), args)
            }
        }
        Expr::StableId(args) => {
            let args: Vec<Expr> = args.into_iter().map(finish).collect();
            if args.contains(&Expr::Opaque) {
                Expr::Opaque
            } else {
                Expr::StableId(args)
            }
        }
        Expr::Path(root, segs) => Expr::Path(
            root,
            segs.into_iter()
                .map(|s| match s {
                    Seg::Dynamic(e) => Seg::Dynamic(b(e)),
                    other => other,
                })
                .collect(),
        ),
        Expr::List(items) => {
            let items: Vec<Expr> = items.into_iter().map(finish).collect();
            if items.contains(&Expr::Opaque) {
                Expr::Opaque
            } else if items.iter().all(|e| matches!(e, Expr::Lit(_))) {
                // A list of literals is one value, made once instead of for every row.
                Expr::Lit(Json::Array(
                    items
                        .into_iter()
                        .filter_map(|e| match e {
                            Expr::Lit(j) => Some(j),
                            _ => None,
                        })
                        .collect(),
                ))
            } else {
                Expr::List(items)
            }
        }
        Expr::Not(e) => Expr::Not(b(e)),
        Expr::And(x, y) => Expr::And(b(x), b(y)),
        Expr::Or(x, y) => Expr::Or(b(x), b(y)),
        Expr::Eq(x, y, s) => Expr::Eq(b(x), b(y), s),
        Expr::In(x, y, s) => Expr::In(b(x), b(y), s),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::template::{Template, from_json, from_json_map, to_json};
    use serde_json::json;

    fn val_json(v: &Val<'_>) -> Json {
        match v {
            Val::Undef => Json::String("<undefined>".into()),
            Val::Json(j) => (*j).clone(),
            Val::Bool(b) => Json::Bool(*b),
            Val::List(items) => Json::Array(items.iter().map(val_json).collect()),
            Val::Owned(j) => j.clone(),
            Val::Omit => Json::String("<omit>".into()),
        }
    }

    fn rows() -> Vec<Map<String, Json>> {
        let rows = [
            json!({"type": "A", "content": {"agentId": "a1", "availableFor": ["VOICE", "MAIL"],
                    "channel": "PHONE_CALL", "contactId": "c1"},
                   "initiator": {"id": "i1", "type": "AGENT"}, "n": 3, "zero": 0, "f0": 0.0,
                   "f": 1.5, "big": u64::MAX, "emptys": "", "emptyl": [], "emptyo": {},
                   "nul": null, "flag": true, "flag2": false, "items": [{"id": "x"}, 4],
                   "s": "str", "email:1": "e@x", "name": "N", "key": "type"}),
            json!({"type": "AGENT_AVAILABILITY/UPDATED", "content": {"availableFor": null},
                   "initiator": {"id": "i2", "type": "CUSTOMER"}, "flag": false, "name": "",
                   "email:1": "", "items": [], "key": 3}),
            json!({"type": "B", "initiator": {}, "content": {"agentId": "", "availableFor": []}}),
            json!({"name": "C", "address": "", "email:1": "c@x", "email:2": "  ", "email:3": "d@x",
                   "phone:1": "650", "customAttribute:b": "2", "customAttribute:a": "1",
                   "customAttribute:c": "", "customAttribute:": "empty name", "tags": ["x", "y"]}),
            json!({"name": "D", "email:1": 5, "customAttribute:a": null, "tags": [1]}),
            json!({}),
        ];
        rows.into_iter()
            .map(|r| match r {
                Json::Object(m) => m,
                _ => unreachable!(),
            })
            .collect()
    }

    const EXPRESSIONS: &[&str] = &[
        "row.type == 'A'",
        "row.type != 'A'",
        "row.missing == 'A'",
        "'A' == row.missing",
        "row.missing != 'A'",
        "row.nul == 'A'",
        "row.nul != 'A'",
        "row.content.agentId or row.initiator.id",
        "row.content.missing or row.initiator.id",
        "row.initiator.id or row.content.agentId",
        "row.a and row.b",
        "row.flag and row.type",
        "row.flag or row.type",
        "not row.flag",
        "not row.missing",
        "not row.nul",
        "'VOICE' in (row.content.availableFor or [])",
        "'VOICE' in row.content.availableFor",
        "'VOICE' not in (row.content.availableFor or [])",
        "row.type == 'AGENT_AVAILABILITY/UPDATED' and 'VOICE' in (row.content.availableFor or [])",
        "row.type in ['AGENT_AVAILABILITY/UPDATED', 'AGENT_STATUS/LOGGED_OUT']",
        "row.type not in ['X', 'A']",
        "row.type == 'CONTACT/STARTED' and row.content.channel == 'PHONE_CALL' and row.initiator.type == 'AGENT'",
        "row.n == 3",
        "row.n",
        "row.zero",
        "row.zero or 'x'",
        "row.f0 or 'x'",
        "row.f or 'x'",
        "row.big or 'x'",
        "row.emptys or 'd'",
        "row.emptyl or 'd'",
        "row.emptyo or 'd'",
        "row.nul or 'd'",
        "row.flag == true",
        "row.flag == row.flag2",
        "row.flag != false",
        "row['email:1'] or row.name",
        "row.items[0].id",
        "row.items[0]",
        "row.items[5]",
        "row.items.0",
        "row.content['agentId']",
        "row.content[row.key]",
        "row[row.key]",
        "row.content.agentId.x",
        "row.missing.deeper",
        "row.s.x",
        "row.s[0]",
        "params.file != 'conversation_items' or row.type == 'A'",
        "params.contact",
        "params.contact or row.type",
        "not params.contact or row.x",
        "params.file == 'conversation_items' and params.format != 'json'",
        "params.missing",
        "params.missing or 'd'",
        "job.name",
        "'ab' in row.type",
        "'A' in row.type",
        "'k' in row.content",
        "'agentId' in row.content",
        "row.content.agentId in ['a1', 'a2']",
        "row.n in [1, 3]",
        "row.type in row.s",
        "[row.type, row.name]",
        "[]",
        "-1",
        "none",
        "true and row.type",
        "false or row.nul",
        "row.a if row.b else row.c",
        "row.type | lower == 'a'",
        "(row.type == 'A') == true",
        "row.n == row.n",
        "row.n > 1",
        "row.type ~ 'x'",
        "lookup('x', row.type)",
        "stable_id('customer', row['email:1'] or row.name)",
        "row | prefixed('email:') | to_objects('original')",
        "not (row.name | trim) and not (row.address | trim)",
        "(row.dueAt | trim)[:1] == '+'",
        "params.startAt or (now() | plus_hours(-24) | plus_minutes(1))",
        "{'a': row.type}",
        "(row.type, row.name)",
        "row.type is defined",
        "row.missing is not defined or row.type",
        "omit",
        "row",
        "row.content",
        "row.content.availableFor",
        "row.initiator",
        "row.items | map(attribute='id') | join(',') or row.type",
        "not params.contact or contact_matches([row.s], params.contact)",
        "row | prefixed('email:')",
        "row | prefixed('email:') | to_objects('original')",
        "row | prefixed('phone:') | to_objects('original')",
        "row | prefixed_map('customAttribute:')",
        "row | prefixed('nothing') | to_objects('k')",
        "row.tags | to_objects('k')",
        "row.type | to_objects('k')",
        "row.content | prefixed('a')",
        "row | prefixed(row.name)",
        "row | prefixed('email:', 'x')",
        "row | to_objects('x')",
        "stable_id('customer', row['email:1'] or row.name)",
        "stable_id('c', row.name)",
        "stable_id(row.emptys)",
        "stable_id()",
        "stable_id(row.n)",
        "stable_id(row.missing)",
        "row.address or omit",
        "row.emptys or omit",
        "row.nul or omit",
        "omit",
        "omit or row.type",
        "not omit",
        "row.type == omit",
    ];

    /// Native evaluation gives exactly the engine's value, truth and cell text wherever it
    /// answers at all.
    #[test]
    fn native_answers_agree_with_the_engine() {
        let globals = json!({"params": {"file": "conversation_items", "contact": "",
                                        "format": "csv", "n": "3"},
                             "job": {"name": "j"}});
        let Json::Object(globals) = globals else {
            unreachable!()
        };
        let mut answered = 0;
        for src in EXPRESSIONS {
            let text = format!("{{{{ {src} }}}}");
            // Mistakes the manifest check refuses never reach a row.
            let Ok(t) = Template::compile(&text, Span::new(1, 1, text.len())) else {
                continue;
            };
            for (r, row) in rows().into_iter().enumerate() {
                let ctx = minijinja::context! {
                    row => from_json_map(row.clone()),
                    params => from_json(&globals["params"]),
                    job => from_json(&globals["job"]),
                };
                let engine = t.eval(&ctx);
                let env = Env {
                    row: RowRef::Map(&row),
                    globals: &globals,
                };
                let Some(v) = t.native_val(&env) else {
                    continue;
                };
                if v == Val::Omit {
                    assert!(
                        crate::template::is_omit(&engine.unwrap()),
                        "`{src}` row {r}"
                    );
                    continue;
                }
                answered += 1;
                let engine = engine.unwrap_or_else(|e| {
                    panic!("`{src}` row {r}: native gave {v:?}, the engine failed: {e}")
                });
                // Compared as the engine would carry the value (a u64 past i64 becomes a float).
                assert_eq!(
                    to_json(&from_json(&val_json(&v))),
                    to_json(&engine),
                    "`{src}` row {r}: value"
                );
                assert_eq!(v.truthy(), engine.is_true(), "`{src}` row {r}: truth");
                assert_eq!(
                    t.is_true_in(&ctx, &env).unwrap(),
                    t.is_true(&ctx).unwrap(),
                    "`{src}` row {r}"
                );
                if let Some(text) = t.native_text(&env) {
                    let mut cell = String::new();
                    match engine.as_str() {
                        Some(s) => cell.push_str(s),
                        None => crate::output::cell_text(&to_json(&engine), &mut cell),
                    }
                    assert_eq!(text, cell, "`{src}` row {r}: text");
                }
                if let Ok(body) = t.native_body(&env) {
                    let expected = (!crate::template::is_omit(&engine)).then(|| to_json(&engine));
                    assert_eq!(body, expected, "`{src}` row {r}: body");
                }
                // Folding the globals in changes no answer.
                let folded = t.native().unwrap().fold(&globals);
                if let Ok(f) = folded.eval(&env) {
                    assert_eq!(val_json(&f), val_json(&v), "`{src}` row {r}: folded");
                }
            }
        }
        assert!(
            answered > 150,
            "native evaluation answered only {answered} cases"
        );
    }

    #[test]
    fn parses_structure_and_leaves_the_rest_to_the_engine() {
        assert_eq!(
            parse("row.a.b"),
            Some(Expr::Path(
                "row".into(),
                vec![Seg::Key("a".into()), Seg::Key("b".into())]
            ))
        );
        assert_eq!(parse("row.a | lower"), Some(Expr::Opaque));
        assert!(matches!(parse("row.a | lower == 'x'"), Some(Expr::Eq(..))));
        assert!(
            matches!(parse("a or b and c"), Some(Expr::Or(_, b)) if matches!(*b, Expr::And(..)))
        );
        assert!(matches!(parse("not a == b"), Some(Expr::Not(e)) if matches!(*e, Expr::Eq(..))));
        assert_eq!(
            parse("row.items | map(attribute='id') | join(',')"),
            Some(Expr::Opaque)
        );
        assert!(matches!(
            parse("not params.x or f(row.a, key=[1, {}])"),
            Some(Expr::Or(..))
        ));
        assert_eq!(parse("row.a +"), None);
        assert_eq!(parse("row.a row.b"), None);
        assert_eq!(parse("'unterminated"), None);
        assert_eq!(parse("row.a."), None);
    }

    #[test]
    fn folding_the_globals_decides_what_they_decide() {
        let Json::Object(globals) =
            json!({"params": {"file": "conversation_items", "contact": ""}})
        else {
            unreachable!()
        };
        let e = parse(
            "params.file != 'conversation_items' or (not params.contact or contact_matches(row.x, params.contact))",
        )
        .unwrap();
        assert!(!e.is_closed());
        assert_eq!(e.fold(&globals), Expr::Lit(Json::Bool(true)));
        let e = parse("params.file == 'conversation_items' and row.type == 'A'").unwrap();
        let folded = e.fold(&globals);
        assert!(matches!(folded, Expr::Eq(..)), "{folded:?}");
        let mut paths = Vec::new();
        folded.row_paths(&mut paths).unwrap();
        assert_eq!(paths, vec![vec!["type".to_owned()]]);
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::template::Template;
    use serde_json::json;

    /// The create-customers body is built without the engine.
    #[test]
    fn the_seed_jobs_body_templates_are_native() {
        let Json::Object(row) = json!({"name": "C", "address": "", "email:1": "c@x",
            "email:2": "", "phone:1": "650", "customAttribute:tier": "gold"})
        else {
            unreachable!()
        };
        let globals = Map::new();
        let env = Env {
            row: RowRef::Map(&row),
            globals: &globals,
        };
        let body = |src: &str| {
            Template::compile(src, Span::new(1, 1, 1))
                .unwrap()
                .native_body(&env)
                .ok()
        };
        assert_eq!(
            body("{{ row | prefixed('email:') | to_objects('original') }}"),
            Some(Some(json!([{"original": "c@x"}])))
        );
        assert_eq!(
            body("{{ row | prefixed_map('customAttribute:') }}"),
            Some(Some(json!({"tier": "gold"})))
        );
        assert_eq!(body("{{ row.address or omit }}"), Some(None));
        assert_eq!(body("{{ row.name }}"), Some(Some(json!("C"))));
        assert_eq!(
            body("{{ stable_id('customer', row['email:1'] or row.name) }}"),
            Some(Some(json!(super::super::functions::stable_id(&[
                "customer", "c@x"
            ]))))
        );
        assert_eq!(body("{{ row.name | lower }}"), None, "left to the engine");
    }
}
