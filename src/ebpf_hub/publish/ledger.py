"""The digest ledger: what publish pushed, so the JSON index can pin every version by digest.

A JSON file `{name: {version: {"digest": "sha256:…", "size": N, "parameters": [...]}}}`, merged
on every run and rewritten atomically, so a failed run still records what it did push. The
parameters come from the built object, so the index and the site can list them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic
from ebpf_hub.index.jsonindex import load_digests, to_json_bytes
from ebpf_hub.publish.pipeline import Outcome

LEDGER_LIMIT = 64 * 1024 * 1024  # bytes; a ledger of 10,000 versions is about 2 MB


def seed(path: Path, url: str, timeout: float = 30.0) -> None:
    """Start the ledger at `path` from the one the deployed site serves at `url`, if none yet.

    A 404 means nothing was deployed yet (the first publish): the ledger starts empty.
    """
    if path.exists():
        return
    from ebpf_hub.httpclient import Client, TooLargeError, TransferError

    try:
        with Client(timeout=timeout) as client, client.request("GET", url) as response:
            status = response.status
            data = response.json(limit=LEDGER_LIMIT) if status == 200 else None
    except TransferError as exc:
        raise HubError(
            f"cannot fetch the deployed ledger {url} ({exc.reason}); check site_url in "
            "index/hub.yaml"
        ) from None
    except (ValueError, TooLargeError):
        raise HubError(f"{url} is not a JSON ledger; check site_url in index/hub.yaml") from None
    if status == 404:
        return
    if status != 200:
        raise HubError(f"{url} answered {status}; check site_url in index/hub.yaml")
    if not isinstance(data, dict):
        raise HubError(f"{url} is not a JSON ledger; check site_url in index/hub.yaml")
    write_atomic(path, to_json_bytes(data))


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
