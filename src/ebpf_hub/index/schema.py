"""JSON Schema validation of package files, with errors turned into readable problems.

Two validators of the same schema, each for what it does best: jsonschema-rs (compiled, ~100x
faster) answers "is this file valid?" for the thousands of files that are; the reference
`jsonschema` explains, field by field, the few that are not. Both are told to check `format`:
neither does by default, and `format: uri` alone lets `https://x.example/"><script>` through.
Should they still disagree, the fast one's verdict stands: no file passes for want of a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ebpf_hub.index.document import Document
from ebpf_hub.index.problems import Path_, Problem
from ebpf_hub.schemas import compiled_validator, load_schema

_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
    "null": "empty",
}


@cache
def validator(name: str) -> Draft202012Validator:
    """The reference validator, used to explain errors; built once per process."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_problems(document: Document, schema_name: str = "package.schema.json") -> list[Problem]:
    """Every schema violation of `document`, one problem each, in file order."""
    fast = compiled_validator(schema_name)
    if fast.is_valid(document.data):
        return []
    errors = validator(schema_name).iter_errors(document.data)
    problems = [p for error in errors for p in _explain(document, error)]
    if not problems:
        first = next(iter(fast.iter_errors(document.data)))
        problems = [
            document.problem(
                tuple(first.instance_path),
                " ".join(first.message.split())[:200],
                f"see the field's description in schema/{schema_name}",
            )
        ]
    return sorted(set(problems), key=lambda p: (p.line, p.field, p.message))


def _explain(document: Document, error: ValidationError) -> Iterator[Problem]:
    path: Path_ = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = str(
        schema.get("description") or "see the field's description in schema/package.schema.json"
    )
    keyword = error.validator
    if keyword == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            yield document.problem(
                (*path, key), f"unknown field {key!r}", f"allowed here: {', '.join(allowed)}"
            )
    elif keyword == "required":
        for key in schema.get("required", []):
            if isinstance(error.instance, dict) and key not in error.instance:
                field_hint = str(schema.get("properties", {}).get(key, {}).get("description", ""))
                yield document.problem(path, f"missing required field {key!r}", field_hint)
    elif keyword == "type":
        wanted = error.validator_value
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        expected = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        got = _describe(error.instance, document.texts.get(path))
        yield document.problem(path, f"expected {expected}, got {got}", _type_hint(names, hint))
    elif keyword == "enum":
        choices = ", ".join(map(str, error.validator_value))
        yield document.problem(
            path, f"{_short(error.instance)} is not allowed", f"one of: {choices}"
        )
    elif keyword == "format" and error.validator_value == "uri":
        yield document.problem(
            path,
            f"{_short(error.instance)} is not a valid URL",
            f"{hint} Percent-encode spaces, quotes and angle brackets (%20, %22, %3C, %3E)",
        )
    elif keyword == "pattern":
        yield document.problem(path, f"{_short(error.instance)} is not in the expected form", hint)
    elif keyword == "oneOf" and path == ("source",):
        yield document.problem(path, "give exactly one of `path` or `git`", hint)
    else:
        yield document.problem(path, _short_message(error), hint)


def _describe(value: Any, text: str | None) -> str:
    """How a wrong value looks to its author: `number 0123`, `list`, `nothing`."""
    if value is None:
        return "nothing"
    for kind, name in ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return f"{name} {text if text is not None else _short(value)}"
    return "list" if isinstance(value, list) else "mapping"


def _type_hint(names: list[str], hint: str) -> str:
    if "string" in names:
        return 'quote the value, e.g. version: "1.0.0"' + (f"; {hint}" if hint else "")
    return hint


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_message(error: ValidationError) -> str:
    """jsonschema's message with the (possibly huge) instance shortened, on one line."""
    message = " ".join(error.message.split())
    full = repr(error.instance)
    if len(full) > 60:
        message = message.replace(full, _short(error.instance))
    return message if len(message) <= 200 else message[:197] + "..."
