#!/usr/bin/env python3
"""Writes tests/fixtures/hostile/: the corpus of hostile inputs the runner must meet with
a clear error (and never a panic, a hang or a memory blow-up).

A dev tool, run by hand; its output is checked in:

    python3 tools/gen_hostile.py            # rewrites tests/fixtures/hostile/
    BLESS=1 cargo test --test integration hostile_corpus   # records each case's answer

Each case is a folder holding the files it needs and:
  args     the command line after `runner`, one argument per line
  make     optional: files made at run time, one per line:
             fifo NAME | dir NAME | hardlink FROM TO | symlink TARGET NAME |
             repeat NAME COUNT TEXT (a file of TEXT COUNT times; `\\n` is a line break) |
             repeat-append NAME COUNT TEXT (the same, added to the end)
  expect   the exit code on line 1, the first error on line 2 (the first `error:` or
           `row N` line of stderr; without one, its first line other than progress and
           `sandbox:` lines); written by BLESS=1 and reviewed by eye
The integration test runs every case with a time limit; tools/hostile_memory.py runs them
with the release binary and reports each one's peak memory.
"""

import os
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests/fixtures/hostile")

NOTES = """version: 1
name: notes
input: { csv: rows.csv, require: [id, note] }
steps:
  - name: note
    request: POST /api/v1/conversations/{{ row.id }}/notes
    body: { content: { body: "{{ row.note }}" } }
"""

ROWS = "id,note\nc1,hello\nc2,world\n"

TASKS = """version: 1
name: tasks
input: { csv: rows.csv, require: [customerId, body, due] }
steps:
  - name: task
    request: POST /api/v1/customers/{{ row.customerId }}/tasks
    body:
      body: "{{ row.body }}"
      dueAt: "{{ '2026-01-01T00:00:00Z' | plus_days(row.due | int) }}"
      assignee: { inboxId: inbox1 }
"""

cases = {}


def case(name, files, args, make=()):
    assert name not in cases, name
    cases[name] = (files, args, list(make))


def manifest(name, text, args=("validate", "job.yaml")):
    case(name, {"job.yaml": text, "rows.csv": ROWS}, list(args))


def data(name, rows_bytes, job=NOTES, extra=(), make=()):
    case(name, {"job.yaml": job, "rows.csv": rows_bytes},
         ["apply", "job.yaml", "--dry-run", *extra], make)


# ---------------------------------------------------------------- YAML and encodings

def bomb(levels, width):
    lines = ["version: 1", "name: bomb", 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * width) + "]")
    lines += ["input: { csv: rows.csv }", "steps:", "  - name: s", "    request: GET /api/v1/agents"]
    return "\n".join(lines) + "\n"


manifest("yaml-alias-bomb-9-levels", bomb(9, 10))
manifest("yaml-alias-bomb-wide", bomb(4, 100))
manifest("yaml-alias-bomb-in-body", NOTES.replace(
    '    body: { content: { body: "{{ row.note }}" } }',
    '    body:\n      a: &a [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    '      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    '      d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]'))
manifest("yaml-unknown-alias", NOTES.replace("name: notes", "name: *nope"))
manifest("yaml-tag-include", NOTES.replace("input: {", "input: !include /etc/passwd\nx: {"))
manifest("yaml-tag-binary", NOTES.replace("name: notes", "name: !!binary aGVsbG8="))
manifest("yaml-tag-env", NOTES.replace("name: notes", "name: !env GLADLY_API_TOKEN"))
manifest("yaml-tag-on-mapping", NOTES.replace("input: {", "input: !!map {"))
manifest("yaml-tab-indent", NOTES.replace("  - name: note", "\t- name: note"))
manifest("yaml-tab-in-body", NOTES.replace("    body:", "\tbody:"))
manifest("yaml-unclosed-bracket", NOTES.replace("require: [id, note] }", "require: [id, note }"))
manifest("yaml-unclosed-bracket-before-next-key", NOTES.replace("require: [id, note] }", "require: [id, note"))
manifest("yaml-quote-in-plain-text-then-unclosed", NOTES.replace("name: notes", "name: it's-notes").replace("require: [id, note] }", "require: [id, note"))
manifest("yaml-unclosed-brace", NOTES.replace("require: [id, note] }", "require: [id, note]"))
manifest("yaml-unclosed-double-quote", NOTES.replace('"{{ row.note }}"', '"{{ row.note }}'))
manifest("yaml-unclosed-single-quote", NOTES.replace("name: notes", "name: 'notes"))
manifest("yaml-duplicate-top-key", NOTES + "name: again\n")
manifest("yaml-duplicate-body-key", NOTES.replace(
    '    body: { content: { body: "{{ row.note }}" } }',
    '    body:\n      content: { body: "{{ row.note }}" }\n      content: { body: x }'))
manifest("yaml-duplicate-nested-body-key", NOTES.replace(
    '{ content: { body: "{{ row.note }}" } }', '{ content: { body: "{{ row.note }}", body: x } }'))
manifest("yaml-two-documents", NOTES + "---\nversion: 1\n")
manifest("yaml-deep-nesting", NOTES.replace(
    '{ content: { body: "{{ row.note }}" } }', "[" * 80 + "1" + "]" * 80))
manifest("yaml-only-comments", "# nothing here\n# at all\n")
manifest("yaml-empty", "")
manifest("yaml-scalar-document", "just a string\n")
manifest("yaml-list-document", "- a\n- b\n")
manifest("yaml-bad-indentation", NOTES.replace("    request:", "      request:"))
manifest("yaml-colon-in-plain-value", NOTES.replace("name: notes", "name: notes: more"))
manifest("yaml-null-everywhere", "version: ~\nname: ~\ninput: ~\nsteps: ~\n")
manifest("yaml-huge-number", NOTES.replace("version: 1", "version: 99999999999999999999999999"))
manifest("yaml-nan-rate", NOTES + "rate_limit: { per_second: .nan }\n")
manifest("yaml-inf-rate", NOTES + "rate_limit: { per_second: .inf }\n")
manifest("rate-tiny", NOTES + "rate_limit: { per_second: 1e-7 }\n")
manifest("concurrency-huge", NOTES + "concurrency: 99999999999\n")
case("manifest-latin1", {"job.yaml": NOTES.replace("name: notes", "name: caf\xe9").encode("latin-1"),
                         "rows.csv": ROWS}, ["validate", "job.yaml"])
case("manifest-utf16le", {"job.yaml": NOTES.encode("utf-16"), "rows.csv": ROWS}, ["validate", "job.yaml"])
case("manifest-utf16be", {"job.yaml": b"\xfe\xff" + NOTES.encode("utf-16-be"), "rows.csv": ROWS},
     ["validate", "job.yaml"])
case("manifest-nul-bytes", {"job.yaml": NOTES.replace("name: notes", "name: no\x00tes").encode(),
                            "rows.csv": ROWS}, ["validate", "job.yaml"])
case("manifest-binary-garbage", {"job.yaml": bytes(range(256)) * 4, "rows.csv": ROWS}, ["validate", "job.yaml"])
case("manifest-too-large", {"rows.csv": ROWS}, ["validate", "job.yaml"],
     ["repeat job.yaml 70000 # a comment line to make the file big\\n"])
case("manifest-is-a-folder", {"rows.csv": ROWS}, ["validate", "job.yaml"], ["dir job.yaml"])
case("manifest-is-a-fifo", {"rows.csv": ROWS}, ["validate", "job.yaml"], ["fifo job.yaml"])
case("manifest-missing", {"rows.csv": ROWS}, ["validate", "nope.yaml"])
case("manifest-dev-zero", {"rows.csv": ROWS}, ["validate", "/dev/zero"])


def steps(n, bad=False):
    lines = ["version: 1", "name: many", "input: { csv: rows.csv, require: [id, note] }", "steps:"]
    for i in range(n):
        lines += [f"  - name: s{i}", f"    {'reqest' if bad else 'request'}: GET /api/v1/agents"]
    return "\n".join(lines) + "\n"


manifest("steps-201", steps(201))
manifest("steps-1000", steps(1000))
manifest("problems-500", steps(500, bad=True))
manifest("problems-60", steps(60, bad=True))
manifest("long-line", NOTES.replace("request: POST", "request: " + "x" * 5000 + " POST"))
manifest("long-name", NOTES.replace("name: notes", "name: " + "n" * 20000))

# ---------------------------------------------------------------- templates

def body(template):
    return NOTES.replace('"{{ row.note }}"', '"' + template + '"')


manifest("template-unknown-filter", body("{{ row.note | uper }}"))
manifest("template-unknown-filter-in-block", body("{% for x in row.note | splitt(',') %}{{ x }}{% endfor %}"))
manifest("template-unknown-test-in-when", NOTES.replace("  - name: note\n", "  - name: note\n    when: \"{{ row.note is emptyy }}\"\n"))
manifest("template-unknown-function", body("{{ lookp('a', row.id) }}"))
manifest("template-extra-filter-args", body("{{ now() | plus_days(1, 2) }}"))
manifest("template-missing-filter-args", body("{{ now() | plus_hours }}"))
manifest("template-function-arity", body("{{ lookup_chain('a') }}"))
manifest("template-bad-time-format", body("{{ now() | format_time('%Q') }}"))
manifest("template-bad-time-format-function", body("{{ format_time(now(), '%Y-%m-%d %Ez', 'UTC') }}"))
manifest("template-syntax-error", body("{{ row.note | }}"))
manifest("template-unclosed-block", body("{% if row.note %}x"))
manifest("template-unclosed-expression", body("{{ row.note"))
manifest("template-unknown-root", body("{{ rwo.note }}"))
manifest("template-unknown-step", body("{{ fecth.id }}"))
manifest("template-response-outside-capture", body("{{ response.body.id }}"))
manifest("template-deeply-nested-parens", body("{{ " + "(" * 300 + "1" + ")" * 300 + " }}"))
manifest("template-macro-recursion", body("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}"),
         ["apply", "job.yaml", "--dry-run"])
manifest("template-endless-loop", body(
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
    ["apply", "job.yaml", "--dry-run"])
manifest("template-10gb-string", body("{% for i in range(100) %}{{ 'x' * 100000000 }}{% endfor %}"),
         ["apply", "job.yaml", "--dry-run"])
manifest("template-big-list", body("{{ range(100000) | list | join(',') * 100 }}"),
         ["apply", "job.yaml", "--dry-run"])
manifest("template-input-column-missing", body("{{ row.emial }}"), ["apply", "job.yaml", "--dry-run"])
manifest("template-subscript-column-missing", body("{{ row['email:9'] }}"), ["apply", "job.yaml", "--dry-run"])
manifest("template-ssti-in-manifest", body("{{ ''.__class__ }}"), ["apply", "job.yaml", "--dry-run"])

# ---------------------------------------------------------------- data

data("csv-semicolon", "id;note\nc1;hello\n")
data("csv-tab-in-csv", "id\tnote\nc1\thello\n")
data("csv-pipe", "id|note\nc1|hello\n")
data("csv-unclosed-quote-middle", 'id,note\nc1,"hello\nc2,world\nc3,x\n')
data("csv-unclosed-quote-header", 'id,"note\nc1,x\n')
data("csv-record-too-large", None, make=["repeat rows.csv 1 id,note\\nc1,", "repeat-append rows.csv 300000 xxxxxxxx"])
data("csv-no-newline-big", None, make=["repeat rows.csv 1 id,note\\n", "repeat-append rows.csv 400000 c1,abc,"])
data("csv-nul-in-cell", "id,note\nc1,hel\x00lo\n")
data("csv-latin1-cell", "id,note\nc1,caf\xe9\n".encode("latin-1"))
data("csv-utf16", "id,note\nc1,x\n".encode("utf-16"))
data("csv-empty", "")
data("csv-bom-only", b"\xef\xbb\xbf")
data("csv-blank-lines-only", "\n\n\r\n")
data("csv-header-only", "id,note\n")
data("csv-duplicate-header", "id,id\nc1,c2\n")
data("csv-empty-header-name", "id,,note\nc1,x,y\n")
data("csv-ragged-rows", "id,note\nc1\nc2,a,b\n")
data("csv-missing-required", "id,notes\nc1,x\n")
data("csv-formula-cells", "id,note\nc1,=HYPERLINK(\"http://evil\")\n")
data("csv-path-dotdot", "id,note\n..,x\n.,y\n../tasks,z\n")
data("csv-path-slash-query-hash", "id,note\na/b,x\n\"a?b\",y\n#a,z\n")
data("csv-template-in-cell", "id,note\nc1,{{ 7*7 }}\n")
data("csv-crlf-and-cr", b"id,note\r\nc1,x\rc2,y\r\n")
data("csv-huge-due", "customerId,body,due\ncu1,x,+936854775807\n", job=TASKS)
data("csv-negative-huge-due", "customerId,body,due\ncu1,x,-99999999999999\n", job=TASKS)
data("csv-non-number-due", "customerId,body,due\ncu1,x,soon\n", job=TASKS)
case("input-txt-extension", {"job.yaml": NOTES, "rows.txt": ROWS},
     ["apply", "job.yaml", "--dry-run", "--input", "rows.txt"])
case("input-missing", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run"])
case("input-fifo", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run"], ["fifo rows.csv"])
case("input-folder", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run"], ["dir rows.csv"])
case("input-dev-zero", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run", "--input", "/dev/zero"])
case("input-dev-null", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run", "--input", "/dev/null"])
case("input-is-the-manifest", {"job.yaml": NOTES}, ["apply", "job.yaml", "--dry-run", "--input", "job.yaml"])

JSONL = NOTES.replace("input: { csv: rows.csv, require: [id, note] }", "input: { jsonl: rows.jsonl, require: [id, note] }")
for name, text in {
    "jsonl-garbage-line": '{"id":"c1","note":"x"}\nnot json\n{"id":"c2","note":"y"}\n',
    "jsonl-not-objects": '[1,2]\n"text"\nnull\n',
    "jsonl-truncated": '{"id":"c1","note":"x"',
    "jsonl-huge-number": '{"id":"c1","note":1e999999}\n',
    "jsonl-duplicate-keys": '{"id":"c1","id":"c2","note":"x"}\n',
    "jsonl-lone-surrogate": '{"id":"c1","note":"\\ud800"}\n',
}.items():
    case(name, {"job.yaml": JSONL, "rows.jsonl": text}, ["apply", "job.yaml", "--dry-run"])
case("jsonl-deep-nesting", {"job.yaml": JSONL}, ["apply", "job.yaml", "--dry-run"],
     ["repeat rows.jsonl 100000 [", "repeat-append rows.jsonl 100000 ]"])
case("jsonl-line-too-large", {"job.yaml": JSONL}, ["apply", "job.yaml", "--dry-run"],
     ['repeat rows.jsonl 1 {"id":"c1","note":"', "repeat-append rows.jsonl 2200000 xxxxxxxx"])

# ---------------------------------------------------------------- files and command lines

def cli(name, args, files=None, make=()):
    case(name, files or {"job.yaml": NOTES, "rows.csv": ROWS}, args, make)


cli("results-hardlink-to-input", ["apply", "job.yaml", "--dry-run", "--results", "hard.csv"],
    make=["hardlink rows.csv hard.csv"])
cli("results-symlink-to-input", ["apply", "job.yaml", "--dry-run", "--results", "soft.csv"],
    make=["symlink rows.csv soft.csv"])
cli("results-is-the-manifest", ["apply", "job.yaml", "--dry-run", "--results", "job.yaml"])
cli("results-in-missing-folder-file", ["apply", "job.yaml", "--dry-run", "--results", "rows.csv/x.csv"])
cli("plan-is-the-input", ["apply", "job.yaml", "--dry-run", "--input", "r.plan.csv", "--results", "r.csv"],
    files={"job.yaml": NOTES, "rows.csv": ROWS, "r.plan.csv": ROWS})
cli("plan-file-as-input", ["apply", "job.yaml", "--dry-run", "--input", "old.csv", "--results", "new.csv"],
    files={"job.yaml": NOTES, "rows.csv": ROWS,
           "old.csv": "row,line,result,outcome,step,id\n1,2,planned,planned,,c1\n"})
cli("unknown-flag", ["apply", "job.yaml", "--dry-runn"])
cli("set-without-equals", ["apply", "job.yaml", "--dry-run", "--set", "topicId"])
cli("set-unknown-param", ["apply", "job.yaml", "--dry-run", "--set", "nope=1"])
cli("resume-missing-ledger", ["apply", "job.yaml", "--sandbox", "--resume", "results/none.csv"])
cli("only-failed-missing-ledger", ["apply", "job.yaml", "--sandbox", "--only-failed", "results/none.csv"])
cli("resume-and-only-failed", ["apply", "job.yaml", "--resume", "a.csv", "--only-failed", "b.csv"])
cli("env-file-folder", ["apply", "job.yaml", "--env-file", "."])
cli("env-file-garbage", ["apply", "job.yaml", "--env-file", "bad.env"],
    files={"job.yaml": NOTES, "rows.csv": ROWS, "bad.env": "\x00\x01 not = an env\n=\n'unclosed\n"})
cli("env-file-missing", ["apply", "job.yaml", "--env-file", "none.env"])
cli("no-host", ["apply", "job.yaml", "--yes"])
cli("no-such-command", ["frobnicate"])
cli("ops-unknown-operation", ["ops", "getCustomr"])
cli("validate-no-files", ["validate"])
cli("apply-two-manifests", ["apply", "job.yaml", "job.yaml"])
cli("sandbox-path-dotdot-rows", ["apply", "job.yaml", "--sandbox", "--yes"],
    files={"job.yaml": NOTES, "rows.csv": "id,note\n..,x\n.,y\n"})

# ---------------------------------------------------------------- write

if os.path.exists(ROOT):
    # Keep each case's recorded answer when it is regenerated.
    kept = {}
    for name in os.listdir(ROOT):
        path = os.path.join(ROOT, name, "expect")
        if os.path.exists(path):
            kept[name] = open(path, "rb").read()
    shutil.rmtree(ROOT)
else:
    kept = {}
for name, (files, args, make) in sorted(cases.items()):
    folder = os.path.join(ROOT, name)
    os.makedirs(folder)
    for file, content in files.items():
        if content is None:
            continue
        mode = "wb" if isinstance(content, bytes) else "w"
        kwargs = {} if isinstance(content, bytes) else {"encoding": "utf-8", "newline": ""}
        with open(os.path.join(folder, file), mode, **kwargs) as f:
            f.write(content)
    with open(os.path.join(folder, "args"), "w") as f:
        f.write("\n".join(args) + "\n")
    if make:
        with open(os.path.join(folder, "make"), "w") as f:
            f.write("\n".join(make) + "\n")
    if name in kept:
        with open(os.path.join(folder, "expect"), "wb") as f:
            f.write(kept[name])
print(f"{len(cases)} cases in {os.path.relpath(ROOT)}", file=sys.stderr)
