"""The digest ledger: what publish pushed, so the JSON index can pin every version by digest.

A JSON file `{name: {version: {"digest": "sha256:…", "size": N}}}`, merged on every run and
rewritten atomically, so a failed run still records what it did push.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ebpf_hub.fsutil import write_atomic
from ebpf_hub.index.jsonindex import load_digests, to_json_bytes


def record(path: Path, entries: Iterable[tuple[str, str, str, int]]) -> None:
    """Merge (name, version, digest, size) entries into the ledger at `path`."""
    merged = json.loads(json.dumps(load_digests(path)))  # a mutable deep copy
    for name, version, digest, size in entries:
        merged.setdefault(name, {})[version] = {"digest": digest, "size": size}
    write_atomic(path, to_json_bytes(merged))
