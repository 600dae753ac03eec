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


def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. package.schema.json."""
    schema: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return schema


@cache
def compiled_validator(name: str) -> Any:
    """The compiled (jsonschema-rs) validator of one schema, checking `format` too (it does not
    by default, and `format: uri` alone refuses `https://x/"><script>`); built once per process,
    and imported only when the first document is checked, not at start-up."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema(name), validate_formats=True)


def first_error(name: str, data: object) -> str | None:
    """None if `data` fits the schema `name`, else its first violation in one short line."""
    validator = compiled_validator(name)
    if validator.is_valid(data):
        return None
    error = next(iter(validator.iter_errors(data)))
    location = "/".join(map(str, error.instance_path)) or "the top level"
    message = " ".join(error.message.split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"at {location}: {message}"
