"""The JSON Schemas shipped with the package (`ebpf_hub/data/` is the repository's schema/).

Kept free of validator imports: the client reads schemas at start-up and must stay fast. The
files are read beside this module rather than through importlib.resources (whose import is
a few milliseconds of every client command): the package is always installed as files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")


def _schema_text(name: str) -> str:
    return (DATA_DIR / name).read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. package.schema.json."""
    schema: dict[str, Any] = json.loads(_schema_text(name))
    return schema


@cache
def compiled_validator(name: str) -> Any:
    """The compiled (jsonschema-rs) validator of one schema, checking `format` too (it does not
    by default, and `format: uri` alone refuses `https://x/"><script>`); built once per process,
    and imported only when the first document is checked, not at start-up. It is given the
    schema's text, which it parses itself: jsonschema-rs 0.34, the last for Python 3.9, takes
    no Python integer beyond 2^63 - 1, and the schemas bound unsigned 64-bit values."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_schema_text(name), validate_formats=True)


def first_error(name: str, data: object) -> str | None:
    """None if `data` fits the schema `name`, else its first violation in one short line."""
    validator = compiled_validator(name)
    try:
        if validator.is_valid(data):
            return None
    except ValueError:  # jsonschema-rs 0.34 (Python 3.9): an integer beyond 64 bits
        return "a number does not fit in 64 bits"
    error = next(iter(validator.iter_errors(data)))
    location = "/".join(map(str, error.instance_path)) or "the top level"
    message = " ".join(error.message.split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"at {location}: {message}"
