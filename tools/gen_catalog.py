#!/usr/bin/env python3
"""Generate src/catalog/gladly.json from Gladly's OpenAPI spec.

A dev tool, run by hand; its output is checked in and nothing at build or run
time reads the spec:

    python3 tools/gen_catalog.py PATH/TO/gladly-openapi.yml -o src/catalog/gladly.json

It keeps facts only (operation ids, methods, paths, parameter and field names,
types, enums, required flags, max lengths, success statuses, media types) and
never copies the spec's prose: descriptions, summaries, titles and examples are
dropped. Output is deterministic: operations sorted by path then method, fields
in spec order, JSON pretty-printed with a trailing newline.

Where the spec contradicts itself, the fixes below (FIXES) replace the broken
piece and first assert that the contradiction is still there, so a corrected
spec makes the generator fail loudly instead of silently keeping a stale fix.
The choices are listed in the module docs of src/catalog/mod.rs.

Needs Python 3.11 and PyYAML.
"""

import argparse
import hashlib
import json
import re
import sys
import urllib.parse

import yaml

# The pseudo-path that describes what Gladly POSTs to *your* webhook: not an endpoint.
EXCLUDED_PATHS = {"/gladly/webhook"}

# Names for the operations the spec leaves without an operationId.
MISSING_IDS = {
    ("POST", "/api/v1/reports"): "generateReport",
    ("POST", "/api/v1/reports/work-session-events"): "generateWorkSessionReport",
    ("GET", "/api/v1/events"): "getEvents",
    (
        "POST",
        "/api/v1/customer-history/{customerId}/conversations/{conversationId}/custom-attributes",
    ): "updateConversationCustomAttributes",
}

# The Reports APIs have their own, stricter limit (10/minute, 2 concurrent).
REPORTS_CLASS = {"generateReport", "generateWorkSessionReport"}

# POSTs that only read: the dry run may send them.
READ_ONLY_POSTS = {"generateReport", "generateWorkSessionReport"}

# Keywords that give a schema a structure; one with none of them describes no value.
STRUCTURE = {"type", "properties", "items", "allOf", "oneOf", "anyOf", "enum", "additionalProperties"}

METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"]

RESPONSE_KINDS = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/x-jsonlines": "jsonl",
    "audio/mpeg": "audio",
}


class Spec:
    """The parsed document plus JSON-pointer `$ref` resolution."""

    def __init__(self, doc):
        self.doc = doc

    def pointer(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        node = self.doc
        for part in ref[2:].split("/"):
            part = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def deref(self, node, depth=0):
        while isinstance(node, dict) and "$ref" in node:
            if depth > 32:
                raise ValueError("$ref chain too deep")
            node = self.pointer(node["$ref"])
            depth += 1
        return node


# ---------------------------------------------------------------- schemas -> shapes


def flatten_all_of(spec, schema):
    """Folds allOf parts into one object schema: properties and required merged."""
    schema = spec.deref(schema)
    if "allOf" not in schema:
        return schema
    merged = {"type": "object", "properties": {}, "required": []}
    parts = [schema] + [flatten_all_of(spec, p) for p in schema["allOf"]]
    for part in parts:
        for name, prop in (part.get("properties") or {}).items():
            merged["properties"].setdefault(name, prop)
        for name in part.get("required") or []:
            if name not in merged["required"]:
                merged["required"].append(name)
        if part.get("additionalProperties"):
            merged["additionalProperties"] = part["additionalProperties"]
    return merged


def to_shape(spec, schema, depth=0):
    if depth > 40:
        raise ValueError("schema nesting too deep")
    schema = flatten_all_of(spec, schema)
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return merge_variants([to_shape(spec, v, depth + 1) for v in variants])
    kind = schema.get("type")
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "items" in schema:
            kind = "array"
    if kind == "string":
        return string_shape(schema)
    if kind in ("integer", "number", "boolean"):
        return {"type": kind}
    if kind == "array":
        items = schema.get("items")
        return {"type": "array", "items": to_shape(spec, items, depth + 1) if items else {"type": "any"}}
    if kind == "object":
        return object_shape(spec, schema, depth)
    return {"type": "any"}


def string_shape(schema):
    shape = {"type": "string"}
    values = schema.get("enum")
    if values:
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"non-string enum value {v!r}")
        shape["enum"] = list(values)
    if "maxLength" in schema:
        shape["maxLength"] = int(schema["maxLength"])
    return shape


def object_shape(spec, schema, depth):
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in props.items():
        prop = spec.deref(prop)
        # readOnly properties must not be sent, so a request shape leaves them out.
        if prop.get("readOnly"):
            continue
        fields.append(
            {"name": name, "required": name in required, "shape": to_shape(spec, prop, depth + 1)}
        )
    # An object with no declared properties is free-form (customAttributes, headers).
    additional = bool(schema.get("additionalProperties")) or not props
    return {"type": "object", "fields": fields, "additional": additional}


def merge_variants(shapes):
    """oneOf/anyOf as one shape: the union of what any variant allows.

    Fields are unioned, a field is required only when every variant requires it,
    and enums are unioned, so a discriminator like `content.type` still lists
    every accepted value.
    """
    merged = shapes[0]
    for shape in shapes[1:]:
        merged = merge_two(merged, shape)
    return merged


def merge_two(a, b):
    if a["type"] != b["type"]:
        return {"type": "any"}
    if a["type"] == "string":
        return merge_strings(a, b)
    if a["type"] == "array":
        return {"type": "array", "items": merge_two(a["items"], b["items"])}
    if a["type"] == "object":
        return merge_objects(a, b)
    return a


def merge_strings(a, b):
    shape = {"type": "string"}
    if "enum" in a and "enum" in b:
        shape["enum"] = a["enum"] + [v for v in b["enum"] if v not in a["enum"]]
    if "maxLength" in a and "maxLength" in b:
        shape["maxLength"] = max(a["maxLength"], b["maxLength"])
    return shape


def merge_objects(a, b):
    by_name = {f["name"]: f for f in b["fields"]}
    fields = []
    for f in a["fields"]:
        other = by_name.pop(f["name"], None)
        if other is None:
            fields.append(dict(f, required=False))
        else:
            fields.append(
                {
                    "name": f["name"],
                    "required": f["required"] and other["required"],
                    "shape": merge_two(f["shape"], other["shape"]),
                }
            )
    fields += [dict(f, required=False) for f in b["fields"] if f["name"] in by_name]
    return {"type": "object", "fields": fields, "additional": a["additional"] or b["additional"]}


# ---------------------------------------------------------------- spec contradictions


def body_schema(op):
    return op["requestBody"]["content"]["application/json"]["schema"]


def set_body_schema(op, schema):
    op["requestBody"]["content"]["application/json"]["schema"] = schema


def fix_required_name(wrong, right):
    def fix(spec, op):
        schema = body_schema(op)
        assert wrong in schema["required"] and right in schema["properties"], "quirk gone"
        schema["required"] = [right if n == wrong else n for n in schema["required"]]

    return fix


def fix_note(spec, op):
    # Schema has a top-level `body` but requires `content`; the example sends {content:{body}}.
    schema = body_schema(op)
    assert "content" in schema["required"] and "body" in schema["properties"], "quirk gone"
    set_body_schema(op, {
        "type": "object",
        "required": ["content"],
        "properties": {
            "content": {
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "string"}},
            }
        },
    })


def fix_custom_attributes(spec, op):
    # Typed as a string `body`; the example sends {add:[{key,value}], remove:[{key,value}]}.
    schema = body_schema(op)
    assert schema["properties"]["body"]["type"] == "string", "quirk gone"
    pair = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
    }
    set_body_schema(op, {
        "type": "object",
        "properties": {
            "add": {"type": "array", "items": pair},
            "remove": {"type": "array", "items": pair},
        },
    })


def fix_report_window(spec, op):
    # startAt/endAt are required, yet the startAtTime/endAtTime form must leave them out.
    schema = body_schema(op)
    assert {"startAt", "endAt"} <= set(schema["required"]), "quirk gone"
    assert "startAtTime" in schema["properties"], "quirk gone"
    schema["required"] = [n for n in schema["required"] if n not in ("startAt", "endAt")]


def fix_report_metric_sets(spec, op):
    # The enum lists only ContactExportReportV3, yet Gladly's own get-reports sample sends
    # `ContactExportReport` (same columns); keep the older name so such jobs validate.
    metric = body_schema(op)["properties"]["metricSet"]
    assert "ContactExportReport" not in metric["enum"], "quirk gone"
    metric["enum"].insert(metric["enum"].index("ContactExportReportV3"), "ContactExportReport")


def fix_report(spec, op):
    fix_report_window(spec, op)
    fix_report_metric_sets(spec, op)


def fix_answer_limits(name_required):
    # Limits stated only by the 400 examples (blank name, name > 500, description > 10000).
    def fix(spec, op):
        props = body_schema(op)["properties"]
        assert "maxLength" not in props["name"], "quirk gone"
        props["name"]["maxLength"] = 500
        props["description"]["maxLength"] = 10000
        if name_required:
            body_schema(op).setdefault("required", []).append("name")

    return fix


def fix_reply_limit(spec, op):
    # content.body over 2048 characters is a documented 400 `too_long`.
    for variant in body_schema(op)["properties"]["content"]["oneOf"]:
        for leaf in variant.get("oneOf", [variant]):
            leaf["properties"]["body"]["maxLength"] = 2048


def fix_event_entities(spec, params):
    # The entity enum exists only as backticked names in the parameter's description.
    for param in params:
        if param.get("name") == "entities":
            names = re.findall(r"`([A-Z_]+)`", param["description"])
            assert len(names) == 8, names
            assert "items" not in param["schema"], "quirk gone"
            param["schema"]["items"] = {"type": "string", "enum": names}


def fix_webhook_events(spec, op):
    # One enum value carries a note: "CUSTOMER_PROFILE/MERGED (deprecated)".
    events = flatten_all_of(spec, body_schema(op))["properties"]["events"]["items"]
    suffix = " (deprecated)"
    assert any(v.endswith(suffix) for v in events["enum"]), "quirk gone"
    events["enum"] = [v.removesuffix(suffix) for v in events["enum"]]


def fix_email_example(spec, op):
    # An example object sits among `to[]`'s properties, as if it were a field named "example".
    props = body_schema(op)["properties"]["to"]["items"]["properties"]
    assert "type" not in props.pop("example"), "quirk gone"


FIXES = {
    "sendEmail": fix_email_example,
    "createTaskComment": fix_required_name("message", "comment"),
    "addTopicToConversation": fix_required_name("topicIDs", "topicIds"),
    "addNoteToConversation": fix_note,
    "updateConversationCustomAttributes": fix_custom_attributes,
    "generateReport": fix_report,
    "addAnswer": fix_answer_limits(name_required=True),
    "updateAnswer": fix_answer_limits(name_required=False),
    "replyToMessage": fix_reply_limit,
    "createWebhook": fix_webhook_events,
}


# ---------------------------------------------------------------- operations


def split_path_key(key):
    """`/a/{x}/b?lng={lng}` -> (`/a/{x}/b`, [`lng`]); `:name` segments become `{name}`."""
    path, _, query = key.partition("?")
    path = re.sub(r"/:([A-Za-z0-9_]+)", r"/{\1}", path)
    names = [part.partition("=")[0] for part in query.split("&") if part]
    return path, names


def query_params(spec, params, embedded):
    out = []
    for param in params:
        if param["in"] != "query":
            continue
        schema = spec.deref(param.get("schema") or {})
        repeated = schema.get("type") == "array"
        shape = to_shape(spec, schema["items"] if repeated else schema)
        out.append(
            {
                "name": param["name"],
                "required": bool(param.get("required")),
                "repeated": repeated,
                "shape": shape,
            }
        )
    declared = {q["name"] for q in out}
    missing = [n for n in embedded if n not in declared]
    assert not missing, f"query names only in the path key: {missing}"
    return out


def merged_params(spec, item, op):
    params = {}
    for param in (item.get("parameters") or []) + (op.get("parameters") or []):
        param = spec.deref(param)
        params[(param["name"], param["in"])] = param
    return list(params.values())


def success(spec, op):
    codes = sorted(op["responses"])
    code = next((c for c in codes if c.startswith("2")), None) or next(
        c for c in codes if c == "303"
    )
    response = spec.deref(op["responses"][code])
    media = next(iter(response.get("content") or {}), None)
    if code.startswith("3"):
        kind = "redirect"
    elif media is None:
        kind = "empty"
    else:
        kind = RESPONSE_KINDS[media]
    location = "Location" in (response.get("headers") or {})
    return int(code), kind, media, location


def body_spec(spec, op):
    body = op.get("requestBody")
    if body is None:
        return None
    body = spec.deref(body)
    schema = spec.deref(body["content"]["application/json"]["schema"])
    if not STRUCTURE & set(schema):
        # A schema with no structure means "send nothing" (redact): model it as no body.
        return None
    shape = to_shape(spec, schema)
    has_required = shape["type"] == "object" and any(f["required"] for f in shape["fields"])
    # Several bodies with required fields omit `required: true`; a body that has
    # required fields cannot be left out.
    return {"required": bool(body.get("required")) or has_required, "shape": shape}


def operation(spec, found):
    key, item, method, op, op_id = found
    path, embedded = split_path_key(key)
    params = merged_params(spec, item, op)
    path_params = re.findall(r"\{([A-Za-z0-9_]+)\}", path)
    declared = sorted(p["name"] for p in params if p["in"] == "path")
    assert sorted(path_params) == declared, f"{op_id}: {path_params} vs {declared}"
    code, kind, media, location = success(spec, op)
    return {
        "id": op_id,
        "method": method,
        "path": path,
        "pathParams": path_params,
        "query": query_params(spec, params, embedded),
        "body": body_spec(spec, op),
        "success": code,
        "errors": sorted(int(c) for c in op.get("responses", {}) if str(c).isdigit() and int(c) >= 300 and int(c) != code),
        "response": kind,
        "contentType": media,
        "location": location,
        "rateClass": "reports" if op_id in REPORTS_CLASS else "default",
        "mutates": method != "GET" and op_id not in READ_ONLY_POSTS,
        "resource": op["tags"][0],
    }


def find_operations(spec):
    """Every (path key, path item, METHOD, operation, id) except the excluded paths."""
    found = []
    for key, item in spec.doc["paths"].items():
        if key in EXCLUDED_PATHS:
            continue
        for method, op in item.items():
            method = method.upper()
            if method in METHOD_ORDER:
                op_id = op.get("operationId") or MISSING_IDS[(method, split_path_key(key)[0])]
                found.append((key, item, method, op, op_id))
    return found


def apply_fixes(spec, found):
    """Fixes edit the parsed document in place, before any conversion, because
    several operations share schemas through `$ref`."""
    by_id = {f[4]: f for f in found}
    unknown = set(FIXES) - set(by_id)
    assert not unknown, f"fixes for unknown operations: {unknown}"
    for op_id, fix in FIXES.items():
        fix(spec, by_id[op_id][3])
    _, item, _, op, _ = by_id["getEvents"]
    fix_event_entities(spec, merged_params(spec, item, op))


def operations(spec):
    found = find_operations(spec)
    apply_fixes(spec, found)
    out = [operation(spec, f) for f in found]
    out.sort(key=lambda o: (o["path"], METHOD_ORDER.index(o["method"])))
    ids = [o["id"] for o in out]
    assert len(ids) == len(set(ids)), "duplicate operation ids"
    assert len(out) == 80, f"expected 80 operations, found {len(out)}"
    return out


def main():
    parser = argparse.ArgumentParser(description="Generate the Gladly catalog JSON.")
    parser.add_argument("spec", help="path to gladly-openapi.yml")
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    args = parser.parse_args()
    with open(args.spec, "rb") as f:
        raw = f.read()
    spec = Spec(yaml.safe_load(raw))
    catalog = {
        "source": {
            "openapi": spec.doc["openapi"],
            "sha256": hashlib.sha256(raw).hexdigest(),
        },
        "operations": operations(spec),
    }
    text = json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
