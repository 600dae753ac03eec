"""The JSON Schemas shipped with the package (`ebpf_hub/data/` is the repository's schema/).

Kept free of validator imports: the client reads schemas at start-up and must stay fast.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. package.schema.json."""
    text = resources.files("ebpf_hub").joinpath("data", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
