"""What the ceremony, the signer and the client share: file names, serialization, the root
history.

The root history is the list of `N.root.json` files, one per root version, each signed by
the keys of the one before and by its own: the offline ceremony writes a new file, the hub
repository keeps them all (public, reviewed like any change), and `trust sign` publishes them
beside the online metadata so that a client holding an old root can walk up to the newest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from securesystemslib.signer import Signer
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from tuf.api.serialization import DeserializationError
from tuf.api.serialization.json import JSONSerializer

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic

METADATA_DIR = "tuf"  # beside the targets: api/v1/tuf/
BINS_PREFIX = "bins"  # hashed bins are bins-00 ... bins-ff
ROOT_FILE = re.compile(r"([1-9][0-9]{0,8})\.root\.json")
SERIALIZER = JSONSerializer(compact=True)
ONLINE_TOP_ROLES = ("targets", "snapshot", "timestamp")

S = TypeVar("S", Root, Timestamp, Snapshot, Targets)  # what Metadata[...] accepts


def now() -> datetime:
    """The current time in UTC, to the second as TUF writes it."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def expires(start: datetime, lifetime: timedelta) -> datetime:
    return (start + lifetime).replace(microsecond=0)


def sign_all(metadata: Metadata[Any], signers: Iterable[Signer]) -> bytes:
    """`metadata` signed by every signer (replacing older signatures), serialized."""
    metadata.signatures.clear()
    for signer in signers:
        metadata.sign(signer, append=True)
    return metadata.to_bytes(SERIALIZER)


def parse(data: bytes, kind: type[S], where: str) -> Metadata[S]:
    """Metadata of `kind` from `data`, or one line naming `where` it came from."""
    try:
        metadata = Metadata[S].from_bytes(data)
    except DeserializationError as exc:
        raise HubError(
            f"{where} is not TUF metadata ({_first_line(exc)})",
            hint="restore it from the hub repository",
        ) from None
    if not isinstance(metadata.signed, kind):
        raise HubError(
            f"{where} holds {metadata.signed.type} metadata, not {kind.type}",
            hint="restore it from the hub repository",
        )
    return metadata


def read_roots(directory: Path) -> list[Metadata[Root]]:
    """Every root version in `directory` (`N.root.json`), oldest first, checked as a client
    would walk them: versions 1, 2, 3... each signed by its own keys and by the keys of the
    version before, to the thresholds."""
    try:
        names = sorted(
            (int(match.group(1)), entry.name)
            for entry in directory.iterdir()
            if (match := ROOT_FILE.fullmatch(entry.name)) and entry.is_file()
        )
    except OSError as exc:
        raise HubError(
            f"cannot read the root directory {directory} ({exc.strerror})",
            hint="create it with `ebpf-hub trust init`",
        ) from None
    if not names:
        raise HubError(
            f"{directory} holds no N.root.json", hint="create one with `ebpf-hub trust init`"
        )
    roots: list[Metadata[Root]] = []
    for expected, (version, name) in enumerate(names, start=1):
        where = str(directory / name)
        root = parse((directory / name).read_bytes(), Root, where)
        if version != expected or root.signed.version != version:
            raise HubError(
                f"{where}: expected root version {expected}, found {root.signed.version}",
                hint="the root files must be 1.root.json, 2.root.json... with no gap",
            )
        for signer_root in (roots[-1] if roots else root, root):
            try:
                signer_root.signed.verify_delegate(Root.type, root.signed_bytes, root.signatures)
            except UnsignedMetadataError as exc:
                raise HubError(
                    f"{where} is not signed by enough root keys ({exc})",
                    hint="sign it with `ebpf-hub trust rotate-root` or restore it",
                ) from None
        roots.append(root)
    return roots


def write_root(directory: Path, root: Metadata[Root]) -> Path:
    """Write `root` as `directory/N.root.json`, which must not exist yet."""
    path = directory / f"{root.signed.version}.root.json"
    if path.exists():
        raise HubError(f"{path} exists", hint="a root version is never rewritten")
    write_atomic(path, root.to_bytes(SERIALIZER))
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
