"""Every way python-tuf refuses the hub's index, as one line that names the attack it stops.

python-tuf raises a handful of exception types whose messages are written for its own
developers ("New timestamp version 1 must be >= 2"); a user needs to know what was refused,
why that matters and what to do. The signatures of a refused file tell a tampered file
(a key the client trusts, a wrong signature), a revoked key (one an older root trusted) and
another hub's index (keys no root of this hub ever named) apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuf.api import exceptions as tuf_errors

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import open_regular
from ebpf_hub.safetext import clip
from ebpf_hub.trust.fetcher import Download, Unreachable
from ebpf_hub.trust.metadata import BINS_PREFIX

REPORT = "try again later, and report it to the hub if it persists"
_UNSIGNED = re.compile(r"(\S+) was signed by \d+/\d+ keys")
_ROOT_VERSION = re.compile(r"([0-9]+)\.root\.json")


@dataclass(frozen=True)
class Context:
    """Where the refusal happened: the hub, the client's metadata cache, the last download,
    and why the hub was unreachable when the cache was used instead (None: online)."""

    hub: str
    metadata_dir: Path
    last: Download | None
    offline: str | None = None


def refusal(exc: Exception, context: Context) -> HubError:
    """The one-line error for `exc`, raised by python-tuf's updater in `context`."""
    if isinstance(exc, HubError):
        return exc
    cause = exc.__cause__
    if isinstance(cause, HubError):  # our own line, wrapped by FetcherInterface.fetch
        return cause
    detail = clip(str(exc) or type(exc).__name__, 160)
    hub = context.hub
    if isinstance(exc, tuf_errors.ExpiredMetadataError):
        if context.offline is not None:
            return HubError(
                f"cannot reach the hub at {hub} ({context.offline}), and the signed index "
                f"cached from it has expired ({detail})",
                hint="connect to the hub to refresh it: an expired index is never used",
            )
        return HubError(
            f"refused the index of {hub}: its signed metadata has expired ({detail}), so it may "
            "be a frozen copy hiding newer versions",
            hint=REPORT,
        )
    if isinstance(exc, tuf_errors.BadVersionNumberError):
        if "must be >=" in str(exc):
            return HubError(
                f"refused the index of {hub}: a rollback to metadata older than the client "
                f"already verified ({detail})",
                hint=f"a server or mirror replays an old index; {REPORT}",
            )
        return HubError(
            f"refused the index of {hub}: a mix-and-match of files from different "
            f"publications ({detail})",
            hint=REPORT,
        )
    if isinstance(exc, tuf_errors.LengthOrHashMismatchError):
        what = context.last.url if context.last else "a file"
        return HubError(
            f"refused {what}: its length or SHA-256 is not the one the signed index names: "
            "tampered, or mixed from another publication",
            hint=REPORT,
        )
    if isinstance(exc, tuf_errors.UnsignedMetadataError):
        return _unsigned(exc, context, detail)
    if isinstance(exc, tuf_errors.DownloadLengthMismatchError):
        what = context.last.url if context.last else "a file"
        return HubError(
            f"refused {what}: the hub sent more than the signed index allows for it "
            f"(endless data: {detail})",
            hint=REPORT,
        )
    if isinstance(exc, Unreachable):
        return HubError(
            f"cannot reach the hub at {hub} ({exc.reason}), and no verified index from it is "
            "cached",
            hint="check --hub / EBPF_HUB_URL or your network",
        )
    if isinstance(exc, tuf_errors.DownloadHTTPError):
        what = context.last.url if context.last else hub
        return HubError(
            f"{what} answered HTTP {exc.status_code}: the hub publishes no signed index there",
            hint="check --hub / EBPF_HUB_URL; the hub signs its index with `ebpf-hub trust sign`",
        )
    return HubError(f"refused the index of {hub}: {detail}", hint=REPORT)


def _unsigned(exc: Exception, context: Context, detail: str) -> HubError:
    match = _UNSIGNED.search(str(exc))
    role = match.group(1) if match else "metadata"
    signed_by = _signature_keyids(context.last)
    roots = _cached_roots(context.metadata_dir)
    current, ever = _role_keys(role, roots, context.metadata_dir)
    where = f"the {clip(role)} metadata of {context.hub}"
    if signed_by and not signed_by & current and signed_by & ever:
        keyid = sorted(signed_by & ever)[0]
        return HubError(
            f"refused {where}: it is signed by key {keyid[:16]}, which the hub has revoked",
            hint=f"a server or mirror uses a retired, perhaps stolen, key; {REPORT}",
        )
    if signed_by and not signed_by & ever:
        return HubError(
            f"refused {where}: it is signed by keys that no root of this hub names ({detail}): "
            "the server is another hub, or a mirror of another index",
            hint="check --hub / EBPF_HUB_URL; `ebpf-hub trust install-root` trusts another "
            "hub's root.json",
        )
    return HubError(
        f"refused {where}: a signature does not verify ({detail}): it was tampered with",
        hint=REPORT,
    )


def _signature_keyids(last: Download | None) -> set[str]:
    data = _json(last.head) if last is not None else None
    signatures = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(signatures, list):
        return set()
    return {
        s["keyid"] for s in signatures if isinstance(s, dict) and isinstance(s.get("keyid"), str)
    }


def _cached_roots(metadata_dir: Path) -> list[dict[str, Any]]:
    """The signed part of every root version the client verified, oldest first."""
    history = metadata_dir / "root_history"
    try:
        names = sorted(
            (int(m.group(1)), entry.name)
            for entry in history.iterdir()
            if (m := _ROOT_VERSION.fullmatch(entry.name))
        )
    except OSError:
        return []
    roots = []
    for _, name in names:
        data = _read_json(history / name)
        if isinstance(data, dict) and isinstance(data.get("signed"), dict):
            roots.append(data["signed"])
    return roots


def _role_keys(
    role: str, roots: list[dict[str, Any]], metadata_dir: Path
) -> tuple[set[str], set[str]]:
    """(the keyids that sign `role` now, every keyid that ever did), as far as verified."""
    if role.startswith(f"{BINS_PREFIX}-"):
        targets = _read_json(metadata_dir / "targets.json")
        keys = (
            targets.get("signed", {}).get("delegations", {}).get("keys", {})
            if isinstance(targets, dict)
            else {}
        )
        return set(keys), set(keys)
    per_root = [set(r.get("roles", {}).get(role, {}).get("keyids", [])) for r in roots]
    current = per_root[-1] if per_root else set()
    return current, set().union(*per_root)


def _read_json(path: Path) -> Any:
    try:
        with open_regular(path) as handle:
            return _json(handle.read())
    except (OSError, HubError):
        return None


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
