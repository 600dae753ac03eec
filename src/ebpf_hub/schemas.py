"""The JSON Schemas shipped with the package (`ebpf_hub/data/` is the repository's schema/).

Kept free of validator imports: the client reads schemas at start-up and must stay fast. The
files are read beside this module rather than through importlib.resources (whose import is
a few milliseconds of every client command): the package is always installed as files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")


def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. package.schema.json."""
    schema: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return schema
