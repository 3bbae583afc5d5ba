//! A mutation fuzzer for the parts that read what users write: the manifest parser and
//! validator, the template compiler and renderer, and the CSV / JSON Lines / JSON readers.
//! Inputs are the shipped jobs, the test fixtures and their data files, mutated byte by
//! byte; the property is that nothing panics (every input gets `Ok` or an error).
//!
//! `cargo test --lib fuzz` runs a bounded number of cases per target (a few seconds, part
//! of `.ci/run`); `FUZZ_CASES=200000 FUZZ_SEED=7 cargo test --release --lib fuzz` runs
//! longer. A failure prints the seed, the case number and the input, escaped: add it to
//! the regression list at the bottom of this file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::diagnostic::Span;
use crate::manifest::Manifest;
use crate::source::{self, Format};
use crate::template::{Template, from_json};

/// A small deterministic generator (xorshift64*): the same seed, the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Bytes that matter to YAML, templates, CSV and JSON, and a few that are trouble.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b":",
    b"\n",
    b"\r\n",
    b"\t",
    b"|",
    b"%",
    b"*",
    b"&",
    b"!",
    b"#",
    b"\0",
    b"\xff",
    b"\xc3",
    b",",
    b";",
    b"-",
    b" ",
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"..",
    b"/",
    b"?",
    b"\\",
    b"&a",
    b"*a",
    b"!!str ",
    b"~",
    b"null",
    b"1e999",
    b"-1",
    b"99999999999999999999",
    b"\xe2\x80\xae",
    b"row.",
    b"| plus_days(",
    b"range(99999)",
    b"'x' * 99999999",
];

fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, piece.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(32)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !out.is_empty() => {
                let end = (at + rng.below(64)).min(out.len());
                let piece: Vec<u8> = out[at.min(end)..end].to_vec();
                out.splice(at..at, piece);
            }
            4 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(128)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => out.insert(at, u8::try_from(rng.below(256)).unwrap_or(0)),
        }
    }
    out
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dirs` whose name ends with one of `suffixes`.
fn seeds(dirs: &[&str], suffixes: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = path.to_string_lossy();
            if suffixes.iter().any(|s| name.ends_with(s))
                && let Ok(bytes) = std::fs::read(&path)
            {
                out.push(bytes);
            }
        }
    }
    assert!(!out.is_empty(), "no seeds in {dirs:?}");
    out
}

fn settings() -> (u64, usize) {
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_abcd);
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    (seed, cases)
}

/// Runs `target` on `cases` mutations of `seeds`; a panic fails with the input.
fn fuzz(name: &str, seeds: &[Vec<u8>], target: impl Fn(&[u8])) {
    let (seed, cases) = settings();
    let mut rng = Rng(seed ^ name.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let mut crash = None;
    for case in 0..cases {
        let pick = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[pick], seeds);
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            crash = Some((case, input));
            break;
        }
    }
    if let Some((case, input)) = crash {
        panic!(
            "{name}: case {case} of seed {seed} panics on:\n{}",
            input.escape_ascii()
        );
    }
}

fn parse_manifest(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    // Rendered too: a diagnostic's position must fit the text it is shown against.
    if let Err(e) = Manifest::parse(Path::new("fuzz.yaml"), &text) {
        let _ = e.render();
    }
}

fn render_template(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let ctx = from_json(&serde_json::json!({
        "row": {"id": "c1", "note": "x", "due": "936854775807", "at": "2026-01-01", "fmt": "%Q"},
        "params": {"topicId": "t1"},
    }));
    if let Ok(template) = Template::compile(&text, Span::default()) {
        let _ = template.render(&ctx);
    }
}

fn read_rows(bytes: &[u8], format: Format) {
    let reader = std::io::Cursor::new(bytes.to_vec());
    if let Ok(rows) = source::from_reader("fuzz", Box::new(reader), format) {
        for row in rows.take(10_000) {
            let _ = row.map(|r| r.values.len());
        }
    }
}

#[test]
fn manifests_never_panic() {
    let seeds = seeds(
        &["jobs", "tests/fixtures/valid", "tests/fixtures/invalid"],
        &[".yaml"],
    );
    fuzz("manifest", &seeds, parse_manifest);
}

#[test]
fn templates_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        "{{ row.id }}",
        "{{ row.at | plus_days(row.due | int) }}",
        "{{ row.at | format_time(row.fmt, 'UTC') }}",
        "{{ format_time(row.at, '%Y-%m-%d', 'America/Los_Angeles') }}",
        "{% for x in row.note.split(',') %}{{ x | trim }}{% endfor %}",
        "{{ stable_id(row.id, params.topicId) }}",
        "{% if row.note is defined and row.note != '' %}{{ row.note | upper }}{% endif %}",
        "{{ (row['note'] or params.topicId) | trim }}",
        "{{ datetime(row.at, 'Asia/Tokyo') | plus_hours(-3) }}",
        "{{ dict(a=1, b=[1, 2]) | tojson }}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("template", &seeds, render_template);
}

#[test]
fn csv_rows_never_panic() {
    let seeds = seeds(&["jobs/data", "tests/fixtures/valid"], &[".csv"]);
    fuzz("csv", &seeds, |b| {
        read_rows(b, Format::Csv { delimiter: b',' });
    });
}

#[test]
fn json_rows_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        "{\"id\":\"c1\",\"note\":\"x\"}\n{\"id\":\"c2\",\"note\":[1,{\"a\":null}]}\n",
        "[{\"id\":\"c1\"},{\"id\":\"c2\",\"n\":1.5e3}]",
        "{\"type\":\"CONTACT/STARTED\",\"content\":{\"channel\":\"PHONE_CALL\"}}\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("jsonl", &seeds, |b| read_rows(b, Format::Jsonl));
    fuzz("json", &seeds, |b| read_rows(b, Format::JsonArray));
}

/// Inputs the fuzzer (or the hostile corpus, or a review) once crashed on, kept as
/// regressions.
#[test]
fn former_crashers_stay_fixed() {
    // A lone CR is a line break to the YAML parser but not to `str::lines`: the column
    // of a diagnostic was past the end of the line shown.
    let manifest = format!(
        "# c\r{{pad: '{}', bogus: 1}}\n#{}\n",
        "x".repeat(200),
        "c".repeat(130)
    );
    parse_manifest(manifest.as_bytes());
    for template in [
        "{{ row.at | plus_days(row.due | int) }}",
        "{{ row.at | plus_hours(-936854775807000) }}",
        "{{ row.at | format_time(row.fmt) }}",
    ] {
        render_template(template.as_bytes());
    }
}

/// The fuzzer itself: a planted panic is found and reported with its input.
#[test]
fn the_fuzzer_finds_a_planted_panic() {
    let seeds = vec![b"id,note\nc1,x\n".to_vec()];
    let found = catch_unwind(|| {
        fuzz("planted", &seeds, |input| {
            assert!(!input.contains(&0xff), "planted");
        });
    });
    let message = found.expect_err("the planted panic is found");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("planted: case") && text.contains("\\xff"),
        "{text}"
    );
}
