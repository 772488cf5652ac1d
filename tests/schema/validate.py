#!/usr/bin/python3
"""Validate rendered PagerDuty events against PagerDuty's OpenAPI schema.

    validate.py --schema openapiv3.json VALID... [--expect-invalid PATH]...

Every VALID file (or *.json file in a VALID directory) must be accepted
by the request body schema of POST /enqueue in PagerDuty's published
OpenAPI 3 document, and must keep the Events API v2 limits that the
schema does not state (summary <= 1024 characters, dedup_key <= 255,
body <= 512 KB, ASCII only as render encodes it). Every --expect-invalid
file must be JSON that the schema rejects: those show that the check
can fail at all.

Runs with Debian's /usr/bin/python3 and python3-jsonschema. Without
jsonschema it fails rather than skips: a schema check that silently
does nothing is worse than none.
"""

import argparse
import datetime
import json
import os
import re
import sys
import urllib.parse

try:
    import jsonschema
except ImportError:
    sys.stderr.write(
        "FAIL: %s has no jsonschema module; install python3-jsonschema "
        "(apt-get install python3-jsonschema)\n" % sys.executable)
    sys.exit(1)

ENDPOINT = "/enqueue"
MEDIA_TYPE = "application/json"

# Events API v2 limits that the OpenAPI document leaves out.
SUMMARY_MAX_CHARS = 1024
DEDUP_KEY_MAX_CHARS = 255
BODY_MAX_BYTES = 512 * 1024

# Schema Object keywords of OpenAPI 3.0 that JSON Schema does not have.
OPENAPI_ONLY = {
    "nullable", "discriminator", "readOnly", "writeOnly", "xml",
    "externalDocs", "example", "examples", "deprecated",
}

# Keywords whose value maps names to schemas: the names are data.
SCHEMA_MAPS = {"properties", "patternProperties", "definitions"}


class SchemaError(Exception):
    pass


def resolve_pointer(document, ref):
    """Resolves a local reference such as #/components/schemas/Payload."""
    if not ref.startswith("#/"):
        raise SchemaError("only local $ref is supported: %r" % ref)
    node = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            raise SchemaError("unresolvable $ref: %r" % ref)
        node = node[token]
    return node


def to_json_schema(node, document, seen=()):
    """An OpenAPI 3.0 Schema Object as a Draft 4 JSON Schema.

    $ref is inlined from the document (OpenAPI 3.0 ignores siblings of
    $ref, and so does this); nullable: true adds null to the type (and
    to an enum), and has no effect without a type, as OpenAPI 3.0.3
    clarifies; OpenAPI-only keywords and x- extensions are dropped.
    """
    if isinstance(node, list):
        return [to_json_schema(item, document, seen) for item in node]
    if not isinstance(node, dict):
        return node

    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise SchemaError("recursive $ref: %r" % ref)
        return to_json_schema(resolve_pointer(document, ref), document,
                              seen + (ref,))

    out = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY or key.startswith("x-"):
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub, document, seen)
                        for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value, document, seen)

    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        if "null" not in types:
            out["type"] = types + ["null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    return out


def request_schema(document):
    """The request body schema of POST /enqueue, and its examples."""
    try:
        operation = document["paths"][ENDPOINT]["post"]
        content = operation["requestBody"]["content"][MEDIA_TYPE]
        schema = content["schema"]
    except (KeyError, TypeError) as e:
        raise SchemaError("no request body schema for POST %s: missing %s"
                          % (ENDPOINT, e))
    examples = [ex["value"] for ex in content.get("examples", {}).values()
                if isinstance(ex, dict) and "value" in ex]
    return to_json_schema(schema, document), examples


# ISO 8601 date and time with an offset, the form PagerDuty's own
# examples use ("2015-07-17T08:42:58.315+0000") as well as RFC 3339's.
DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}:?\d{2})$")


def format_checker():
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value):
        if not isinstance(value, str):
            return True
        m = DATE_TIME.match(value)
        if not m:
            return False
        datetime.datetime(*(int(g) for g in m.groups()[:6]))
        return True

    @checker.checks("url")
    def is_url(value):
        if not isinstance(value, str):
            return True
        parts = urllib.parse.urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc)

    return checker


def load_strict(path):
    """Parses a file as strict JSON: UTF-8, no NaN, no duplicate keys."""
    def no_constants(name):
        raise ValueError("not JSON: %s" % name)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError("duplicate keys: %s" % ", ".join(sorted(dup)))
        return dict(pairs)

    with open(path, "rb") as f:
        raw = f.read()
    return raw, json.loads(raw.decode("utf-8"), parse_constant=no_constants,
                           object_pairs_hook=no_duplicates)


def schema_errors(validator, instance):
    errors = sorted(validator.iter_errors(instance),
                    key=lambda e: list(map(str, e.absolute_path)))
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(body)",
                        e.message) for e in errors]


def limit_errors(raw, event):
    """The Events API v2 limits the schema does not express."""
    errors = []
    if len(raw) > BODY_MAX_BYTES:
        errors.append("body is %d bytes, more than %d"
                      % (len(raw), BODY_MAX_BYTES))
    if any(b > 0x7f for b in raw):
        errors.append("body has raw non-ASCII bytes")
    payload = event.get("payload") if isinstance(event, dict) else None
    summary = payload.get("summary") if isinstance(payload, dict) else None
    if isinstance(summary, str):
        if len(summary) > SUMMARY_MAX_CHARS:
            errors.append("payload/summary is %d characters, more than %d"
                          % (len(summary), SUMMARY_MAX_CHARS))
        if not summary:
            errors.append("payload/summary is empty")
    dedup_key = event.get("dedup_key") if isinstance(event, dict) else None
    if isinstance(dedup_key, str) and len(dedup_key) > DEDUP_KEY_MAX_CHARS:
        errors.append("dedup_key is %d characters, more than %d"
                      % (len(dedup_key), DEDUP_KEY_MAX_CHARS))
    return errors


def sample_files(path):
    """The files a path names: itself, or the *.json files in it."""
    if not os.path.isdir(path):
        return [path]
    files = sorted(os.path.join(path, name) for name in os.listdir(path)
                   if name.endswith(".json"))
    if not files:
        raise SchemaError("%s: no .json samples in it" % path)
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True,
                        help="PagerDuty's OpenAPI 3 document")
    parser.add_argument("--expect-invalid", action="append", default=[],
                        metavar="PATH",
                        help="a file or directory the schema must reject")
    parser.add_argument("valid", nargs="*",
                        help="files or directories that must be valid")
    args = parser.parse_args()

    failures = []
    try:
        with open(args.schema, encoding="utf-8") as f:
            schema, examples = request_schema(json.load(f))
        jsonschema.Draft4Validator.check_schema(schema)
        validator = jsonschema.Draft4Validator(
            schema, format_checker=format_checker())
        valid = [p for arg in args.valid for p in sample_files(arg)]
        invalid = [p for arg in args.expect_invalid
                   for p in sample_files(arg)]
    except (OSError, ValueError, SchemaError,
            jsonschema.exceptions.SchemaError) as e:
        print("FAIL: %s" % e)
        return 1

    if not valid and not invalid:
        print("FAIL: nothing to validate")
        return 1

    # PagerDuty's own example must pass, or the conversion is wrong.
    for i, example in enumerate(examples):
        for error in schema_errors(validator, example):
            failures.append("schema example %d: %s" % (i, error))

    for path in valid:
        try:
            raw, event = load_strict(path)
        except (OSError, ValueError) as e:
            failures.append("%s: %s" % (path, e))
            continue
        errors = schema_errors(validator, event) + limit_errors(raw, event)
        for error in errors:
            failures.append("%s: %s" % (path, error))
        if not errors:
            print("ok       %s" % path)

    for path in invalid:
        try:
            _, event = load_strict(path)
        except (OSError, ValueError) as e:
            failures.append("%s: an invalid sample must still be JSON: %s"
                            % (path, e))
            continue
        errors = schema_errors(validator, event)
        if not errors:
            failures.append("%s: accepted, but the schema must reject it"
                            % path)
        else:
            print("rejected %s (%s)" % (path, errors[0]))

    for failure in failures:
        print("FAIL: %s" % failure)
    print("%d valid, %d invalid checked, %d failures against %s"
          % (len(valid), len(invalid), len(failures), args.schema))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
