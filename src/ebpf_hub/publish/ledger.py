"""The digest ledger: what publish pushed, so the JSON index can pin every version by digest.

A JSON file `{name: {version: {"digest": "sha256:…", "size": N, "parameters": [...]}}}`, merged
on every run and rewritten atomically, so a failed run still records what it did push. The
parameters come from the built object, so the index and the site can list them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ebpf_hub.fsutil import write_atomic
from ebpf_hub.index.jsonindex import load_digests, to_json_bytes
from ebpf_hub.publish.pipeline import Outcome


def record(path: Path, outcomes: Iterable[Outcome]) -> None:
    """Merge what `outcomes` pushed (or found already pushed) into the ledger at `path`."""
    merged = json.loads(json.dumps(load_digests(path)))  # a mutable deep copy
    for outcome in outcomes:
        merged.setdefault(outcome.target.package.name, {})[outcome.target.version.version] = {
            "digest": outcome.digest,
            "size": outcome.size,
            "parameters": list(outcome.parameters),
        }
    write_atomic(path, to_json_bytes(merged))
