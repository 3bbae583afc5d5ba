#!/usr/bin/env python3
"""Generate tests/fixtures/spec/operations.json from Gladly's OpenAPI spec.

A dev tool, run by hand; its output is checked in and is test data for the
conformance test, which validates every sandbox response against it. Nothing at
build or run time reads the spec:

    python3 tools/gen_spec_schemas.py PATH/TO/gladly-openapi.yml -o tests/fixtures/spec/operations.json

For every operation that src/catalog/gladly.json also has (matched on method and
path, named by the catalog's id, in the catalog's order) it writes the path and
query parameter schemas, the request body schema and the spec's request examples,
and per documented status the media type, body schema and header names. Every
`components.schemas` entry is written too.

Every schema is a self-contained JSON Schema, draft 2020-12: a `$ref` to
`#/components/schemas/X` becomes `#/$defs/X` with X (and what it needs) in the
root's `$defs`; any other `$ref` is inlined, unless it is recursive, in which
case it also goes to `$defs`. OpenAPI 3.0 keywords are converted (`nullable`
adds "null" to `type` and `enum`; `$ref` siblings are ignored, as OpenAPI 3.0
says). Facts only: descriptions, summaries, titles, external docs, `x-*`
extensions and examples inside schemas are dropped; request examples are kept
as data. Output is deterministic: keys in spec order, JSON pretty-printed with a
trailing newline.

Response schemas of the JSON Lines media types (`application/x-jsonlines`,
`application/x-ndjson`) describe one line. A status the spec documents without
a body has `media_type` and `schema` null.

Where the spec contradicts itself, the fixes below (FIXES) replace the broken
piece and first assert that the contradiction is still there, so a corrected
spec makes the generator fail loudly instead of silently keeping a stale fix.
The request-body fixes are those of tools/gen_catalog.py that resolve a
contradiction; the others are schemas that no response (or request) of the
documented shape can satisfy.

Needs Python 3.11 and PyYAML.
"""

import argparse
import copy
import hashlib
import json
import os
import re
import sys
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The spec reading, $ref resolution, missing operation ids and request-body fixes are
# tools/gen_catalog.py's own: one reading of the spec for the catalog and the schemas.
from gen_catalog import (  # noqa: E402
    MISSING_IDS,
    Spec,
    fix_custom_attributes,
    fix_email_example,
    fix_note,
    fix_report_window,
    fix_required_name,
    merged_params,
)
from gen_catalog import body_schema as body  # noqa: E402
from gen_catalog import split_path_key as split_key  # noqa: E402

DIALECT = "https://json-schema.org/draft/2020-12/schema"


from gen_catalog import METHOD_ORDER as METHODS  # noqa: E402

# Schema keywords dropped: prose, and examples inside schemas.
DROPPED = {"description", "summary", "title", "externalDocs", "example", "examples"}

# Schema keywords copied as they are (same meaning in OpenAPI 3.0 and draft 2020-12).
COPIED = {
    "type", "enum", "const", "format", "required", "default", "pattern",
    "maxLength", "minLength", "minimum", "maximum", "multipleOf",
    "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties",
    "readOnly", "writeOnly", "deprecated",
}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def schema_at(op, *path):
    """The (unresolved) schema under an operation: ("requestBody",), ("responses", "200")."""
    node = op
    for key in path:
        node = node[key]
    (media,) = node["content"].values()
    return media["schema"]


# ---------------------------------------------------------------- spec contradictions
#
# Request bodies: the fixes tools/gen_catalog.py applies (same facts, as JSON Schema).
# The catalog's other edits (limits taken from 400 examples, the `entities` enum taken
# from prose, `ContactExportReport`) add constraints rather than resolve a contradiction,
# so they are not repeated here.


def fix_webhook_events(spec, op):
    # One enum value carries a note: "CUSTOMER_PROFILE/MERGED (deprecated)". The webhook
    # read responses $ref this schema, so they get the fix too.
    events = declaring(spec, body(op), "events")["properties"]["events"]["items"]
    suffix = " (deprecated)"
    assert any(v.endswith(suffix) for v in events["enum"]), "quirk gone"
    events["enum"] = [v.removesuffix(suffix) for v in events["enum"]]


# Responses.


def fix_error_wrapper(*codes):
    # The schema is the single `Error`; the examples use the `{errors: [...]}` wrapper `Errors`.
    def fix(spec, op):
        for code in codes:
            (media,) = op["responses"][code]["content"].values()
            assert media["schema"] == {"$ref": "#/components/schemas/Error"}, "quirk gone"
            shown = [spec.deref(e)["value"] for e in (media.get("examples") or {}).values()]
            assert shown and all("errors" in value for value in shown), "quirk gone"
            media["schema"] = {"$ref": "#/components/schemas/Errors"}

    return fix


def fix_errors_one_of(spec, op):
    # oneOf [Error, ErrorsWithMeta]: neither requires a field, so every object matches both
    # and none matches exactly one; the examples use the `{errors: [...]}` wrapper.
    (media,) = op["responses"]["400"]["content"].values()
    refs = [part.get("$ref") for part in media["schema"]["oneOf"]]
    expected = ["#/components/schemas/Error", "#/components/schemas/ErrorsWithMeta"]
    assert refs == expected, "quirk gone"
    media["schema"] = {"$ref": "#/components/schemas/ErrorsWithMeta"}


def drop_undefined_required(schema, name):
    assert name in schema["required"] and name not in schema["properties"], "quirk gone"
    schema["required"] = [n for n in schema["required"] if n != name]


def fix_task_content(spec, op):
    # The task requires `content`, which it never defines and no example has.
    drop_undefined_required(spec.deref(schema_at(op, "responses", "200")), "content")


def event_content(spec, op, kind):
    """The `content` schema of the getEvents variant whose `type` is `kind`."""
    for variant in spec.deref(schema_at(op, "responses", "200"))["oneOf"]:
        variant = spec.deref(variant)
        if spec.deref(variant["properties"]["type"]).get("enum") == [kind]:
            return spec.deref(variant["properties"]["content"])
    raise AssertionError(f"no {kind} event")


def fix_events(spec, op):
    # CONTACT/JOINED requires `messageId` and TASK/CONTENT_UPDATED requires `dueAt`; neither
    # defines it.
    drop_undefined_required(event_content(spec, op, "CONTACT/JOINED"), "messageId")
    drop_undefined_required(event_content(spec, op, "TASK/CONTENT_UPDATED"), "dueAt")
    # `availableFor` is `type: array` with the channel enum on the array itself, so no array
    # matches; the enum belongs to the items (the examples are arrays of those values).
    fixed = 0
    for node in schema_nodes(spec, schema_at(op, "responses", "200")):
        if node.get("type") == "array" and "enum" in node:
            assert "items" not in node, "quirk gone"
            node["items"] = {"type": "string", "enum": node.pop("enum")}
            fixed += 1
    assert fixed, "quirk gone"


def fix_export_file(spec, op):
    # `application/x-ndjson` is one JSON object per line, but the schema is a oneOf of four
    # arrays (agents, conversation items, customers, topics files), and the agent, customer
    # and topic objects require nothing, so their lines match several variants. The schema
    # becomes one line: anyOf the four item schemas.
    media = op["responses"]["200"]["content"]["application/x-ndjson"]
    lines = []
    for variant in media["schema"]["oneOf"]:
        (array,) = variant.get("allOf", [variant])
        array = spec.deref(array)
        assert array["type"] == "array", "quirk gone"
        lines.append(array["items"])
    media["schema"] = {"anyOf": lines}


def fix_recipients(spec, op):
    # `recipients[]` is oneOf [email, SMS, voice], and the SMS and voice variants are the
    # same schema, so no phone recipient matches exactly one; the duplicate is dropped.
    items = body(op)["properties"]["recipients"]["items"]
    sms, voice = items["oneOf"][1:]
    assert strip_prose(sms) == strip_prose(voice), "quirk gone"
    items["oneOf"] = items["oneOf"][:2]


def strip_prose(node):
    if isinstance(node, dict):
        return {k: strip_prose(v) for k, v in node.items() if k not in DROPPED}
    if isinstance(node, list):
        return [strip_prose(v) for v in node]
    return node


def schema_nodes(spec, node, seen=None):
    """Every schema object reachable from `node`, following `$ref`s, each once."""
    seen = set() if seen is None else seen
    node = spec.deref(node)
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    children = list((node.get("properties") or {}).values())
    for key in ("items", "not", "additionalProperties"):
        if isinstance(node.get(key), dict):
            children.append(node[key])
    for key in ("allOf", "oneOf", "anyOf"):
        children += node.get(key) or []
    for child in children:
        yield from schema_nodes(spec, child, seen)


FIXES = {
    "sendEmail": fix_email_example,
    "createTaskComment": fix_required_name("message", "comment"),
    "addTopicToConversation": fix_required_name("topicIDs", "topicIds"),
    "addNoteToConversation": fix_note,
    "updateConversationCustomAttributes": fix_custom_attributes,
    "generateReport": fix_report_window,
    "createWebhook": fix_webhook_events,
    "createRecipientCollection": fix_recipients,
    "getTask": fix_task_content,
    "addAnswer": fix_error_wrapper("400", "409"),
    "getAnswerContentByLanguageAndType": fix_error_wrapper("400"),
    "deleteAnswerContentByLanguageAndType": fix_errors_one_of,
    "getEvents": fix_events,
    "getFile": fix_export_file,
}


def declaring(spec, schema, name):
    """The schema, or the allOf part (at any depth), whose `properties` has `name`."""
    schema = spec.deref(schema)
    if name in (schema.get("properties") or {}):
        return schema
    for part in schema.get("allOf") or []:
        found = declaring(spec, part, name)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- schemas


class Recursive(Exception):
    """A non-component `$ref` met again inside its own expansion."""

    def __init__(self, ref):
        super().__init__(ref)
        self.ref = ref


class Converter:
    """OpenAPI 3.0 schema objects -> self-contained JSON Schema draft 2020-12."""

    def __init__(self, spec):
        self.spec = spec
        self.names = {}  # $ref -> $defs name
        for name in spec.doc.get("components", {}).get("schemas", {}):
            self.names["#/components/schemas/" + escape(name)] = name
        self.defs = {}  # $defs name -> (schema, names it needs)

    def root(self, node):
        """A schema with `$schema` and, when it needs any, its own `$defs`."""
        while True:
            try:
                needs = set()
                schema = self.convert(node, needs, ())
                defs = self.closure(needs)
                break
            except Recursive as r:
                self.add_recursive(r.ref)
        out = {"$schema": DIALECT}
        out.update(schema)
        if defs:
            out["$defs"] = defs
        return out

    def add_recursive(self, ref):
        readable = urllib.parse.unquote(ref[2:]).replace("~1", "/")
        name = re.sub(r"[^A-Za-z0-9]+", "_", readable).strip("_")
        assert name not in self.names.values(), f"$defs name clash: {name}"
        self.names[ref] = name

    def closure(self, needs):
        out, todo = {}, sorted(needs)
        while todo:
            name = todo.pop()
            if name in out:
                continue
            schema, more = self.definition(name)
            out[name] = schema
            todo.extend(sorted(more - set(out)))
        return dict(sorted(out.items()))

    def definition(self, name):
        if name not in self.defs:
            ref = next(r for r, n in self.names.items() if n == name)
            needs = set()
            self.defs[name] = (self.convert(self.spec.pointer(ref), needs, (ref,)), needs)
        return self.defs[name]

    def convert(self, node, needs, stack):
        if not isinstance(node, dict):
            raise ValueError(f"not a schema: {node!r}")
        if "$ref" in node:
            # OpenAPI 3.0: properties beside a $ref are ignored.
            ref = node["$ref"]
            if ref in self.names:
                needs.add(self.names[ref])
                return {"$ref": "#/$defs/" + self.names[ref]}
            if ref in stack:
                raise Recursive(ref)
            return self.convert(self.spec.pointer(ref), needs, stack + (ref,))
        out = {}
        for key, value in node.items():
            if key in DROPPED or key.startswith("x-") or key == "nullable":
                continue
            if key == "properties":
                out[key] = {n: self.convert(v, needs, stack) for n, v in value.items()}
            elif key in ("items", "not"):
                out[key] = self.convert(value, needs, stack)
            elif key == "additionalProperties":
                out[key] = value if isinstance(value, bool) else self.convert(value, needs, stack)
            elif key in ("allOf", "oneOf", "anyOf"):
                out[key] = [self.convert(v, needs, stack) for v in value]
            elif key in COPIED:
                out[key] = copy.deepcopy(value)
            else:
                raise ValueError(f"unsupported schema keyword {key!r} in {node!r}")
        if node.get("nullable"):
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = kind + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"].append(None)
        return out


def escape(name):
    return name.replace("~", "~0").replace("/", "~1")


# ---------------------------------------------------------------- operations


def embedded_query(key):
    """`/a?lng={lng}&audienceId={audienceId}` -> [`lng`, `audienceId`]."""
    return [part.partition("=")[0] for part in key.partition("?")[2].split("&") if part]


def item_key(spec, item):
    return next(k for k, v in spec.doc["paths"].items() if v is item)


def find_operations(spec):
    """(METHOD, path) -> (path item, operation, id or None) for every operation of the spec."""
    found = {}
    for key, item in spec.doc["paths"].items():
        for method, op in item.items():
            method = method.upper()
            if method in METHODS:
                path = split_key(key)[0]
                op_id = op.get("operationId") or MISSING_IDS.get((method, path))
                found[(method, path)] = (item, op, op_id)
    return found


def request_body(spec, conv, op):
    body = op.get("requestBody")
    if body is None:
        return None, []
    body = spec.deref(body)
    ((media_type, media),) = body["content"].items()
    examples = []
    if "example" in media:
        examples.append(media["example"])
    for example in (media.get("examples") or {}).values():
        example = spec.deref(example)
        examples.append(example["value"])
    schema = conv.root(media["schema"]) if "schema" in media else None
    spec_body = {"required": bool(body.get("required")), "media_type": media_type, "schema": schema}
    return spec_body, examples


def responses(spec, conv, op):
    out = {}
    for code in sorted(op["responses"], key=str):
        response = spec.deref(op["responses"][code])
        content = response.get("content") or {}
        assert len(content) <= 1, f"several media types for {code}"
        media_type, media = next(iter(content.items()), (None, {}))
        schema = media.get("schema")
        out[str(code)] = {
            "media_type": media_type,
            "schema": None if schema is None else conv.root(schema),
            "headers": list(response.get("headers") or {}),
        }
    return out


def operation(spec, conv, entry, item, op):
    params = merged_params(spec, item, op)
    names = re.findall(r"\{([A-Za-z0-9_]+)\}", entry["path"])
    by_name = {p["name"]: p for p in params if p["in"] == "path"}
    assert sorted(names) == sorted(by_name), f"{entry['id']}: {names} vs {sorted(by_name)}"
    unknown = [p["in"] for p in params if p["in"] not in ("path", "query")]
    assert not unknown, f"{entry['id']}: parameters in {unknown}"
    query = [p for p in params if p["in"] == "query"]
    missing = set(embedded_query(item_key(spec, item))) - {p["name"] for p in query}
    assert not missing, f"{entry['id']}: query names only in the path key: {missing}"
    body, examples = request_body(spec, conv, op)
    return {
        "id": entry["id"],
        "method": entry["method"],
        "path": entry["path"],
        "path_params": {n: conv.root(by_name[n].get("schema") or {}) for n in names},
        "query": [
            {
                "name": p["name"],
                "required": bool(p.get("required")),
                "schema": conv.root(p.get("schema") or {}),
            }
            for p in query
        ],
        "body": body,
        "request_examples": examples,
        "responses": responses(spec, conv, op),
    }


def apply_fixes(spec, found):
    """Fixes edit the parsed document in place, before any conversion, because
    several operations share schemas through `$ref`."""
    by_id = {op_id: op for (_, op, op_id) in found.values() if op_id}
    unknown = set(FIXES) - set(by_id)
    assert not unknown, f"fixes for unknown operations: {unknown}"
    for op_id, fix in FIXES.items():
        fix(spec, by_id[op_id])


def build(spec, catalog):
    found = find_operations(spec)
    apply_fixes(spec, found)
    conv = Converter(spec)
    wanted = [(o["method"], o["path"]) for o in catalog["operations"]]
    spec_only = sorted(set(found) - set(wanted))
    catalog_only = sorted(set(wanted) - set(found))
    for what, keys in (("spec", spec_only), ("catalog", catalog_only)):
        for method, path in keys:
            print(f"only in the {what}: {method} {path}", file=sys.stderr)
    ops = []
    for entry in catalog["operations"]:
        key = (entry["method"], entry["path"])
        if key in found:
            item, op, op_id = found[key]
            assert op_id == entry["id"], f"{key}: spec id {op_id}, catalog id {entry['id']}"
            ops.append(operation(spec, conv, entry, item, op))
    assert len(ops) == 80, f"expected 80 operations, found {len(ops)}"
    schemas = {name: conv.root(node) for name, node in spec.doc["components"]["schemas"].items()}
    return ops, schemas


def main():
    parser = argparse.ArgumentParser(description="Generate the spec schemas test fixture.")
    parser.add_argument("spec", help="path to gladly-openapi.yml")
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    parser.add_argument(
        "--catalog",
        default=os.path.join(REPO, "src", "catalog", "gladly.json"),
        help="the catalog whose operations to include (default: src/catalog/gladly.json)",
    )
    args = parser.parse_args()
    with open(args.spec, "rb") as f:
        raw = f.read()
    with open(args.catalog, encoding="utf-8") as f:
        catalog = json.load(f)
    spec = Spec(yaml.safe_load(raw))
    ops, schemas = build(spec, catalog)
    fixture = {
        "source": {"openapi": spec.doc["openapi"], "sha256": hashlib.sha256(raw).hexdigest()},
        "operations": ops,
        "schemas": schemas,
    }
    text = json.dumps(fixture, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
