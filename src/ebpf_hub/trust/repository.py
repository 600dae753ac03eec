"""Signing a built site's `api/v1`: TUF metadata in `api/v1/tuf/`, targets beside it.

Every file under `api/v1` (but `tuf/` itself) is a target, named by its path there
(`index.json`, `packages/execsnoop.json`). The top-level targets role delegates all of them to
hashed bins (TAP 15's succinct delegation: `bins-00` ... `bins-ff` by the SHA-256 of the path),
so a client resolving one package reads the timestamp, the snapshot, the small top-level
targets, one bin and the file. Snapshots are consistent: metadata is published as
`VERSION.ROLE.json` (the timestamp alone keeps a fixed name) and each target also as
`DIR/SHA256.NAME`, so a client in the middle of an update never mixes two publications.

Re-signing is incremental: the previous publication's metadata is read back, a bin whose
targets did not change keeps its version and bytes (unless half its lifetime is gone), and
every version signed anew goes up (`next_version`), which is what lets a client refuse a
rollback.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Signed,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import replace_directory
from ebpf_hub.trust.keys import OnlineKeys
from ebpf_hub.trust.lifetimes import Lifetimes
from ebpf_hub.trust.metadata import (
    BINS_PREFIX,
    METADATA_DIR,
    ONLINE_TOP_ROLES,
    SERIALIZER,
    expires,
    now,
    parse,
    read_roots,
    sign_all,
)

HASH_ALGORITHM = "sha256"
HASHED_NAME = re.compile(r"[0-9a-f]{64}\..+")  # the consistent-snapshot copy of a target
DEFAULT_BIN_BITS = 8  # 256 bins: about 40 packages each in a hub of 10,000

R = TypeVar("R", Snapshot, Targets)


@dataclass(frozen=True)
class SignReport:
    """What a signing wrote: versions, and how much was signed anew."""

    root_version: int
    targets_version: int
    snapshot_version: int
    timestamp_version: int
    target_count: int
    bins_signed: int  # bins re-signed (new or changed content, or nearing expiry)
    bins_kept: int  # bins published again unchanged


@dataclass(frozen=True)
class _Previous:
    """The publication being replaced: each role's metadata by name, with its bytes."""

    roles: Mapping[str, tuple[Metadata[Any], bytes]]
    timestamp_version: int


def sign_index(
    api_dir: Path,
    roots: Path,
    keys: OnlineKeys,
    *,
    lifetimes: Lifetimes | None = None,
    previous: Path | None = None,
    bin_bits: int = DEFAULT_BIN_BITS,
) -> SignReport:
    """Sign the files under `api_dir` (a site's `api/v1`) into `api_dir/tuf/`.

    `roots` holds the root history (`N.root.json`); `previous` is the metadata directory of
    the publication this one replaces (default: `api_dir/tuf` when it exists): its versions
    are continued, and what did not change is kept. `api_dir/tuf` is replaced whole (with
    every root version, and `root.json`: the newest), and so are the `SHA256.NAME` copies of
    the files that changed. `bin_bits` sets the number of bins (2**bin_bits) once and for
    all: clients hold on to the bins they saw.
    """
    lifetimes = lifetimes or Lifetimes()
    history = read_roots(roots)
    root = history[-1].signed
    _check_keys(root, keys, roots)
    old = _read_previous(previous if previous is not None else api_dir / METADATA_DIR)
    targets = _collect_targets(api_dir)
    signed_at = now()
    files: dict[str, bytes] = {}

    delegation = SuccinctRoles([keys.bins.public_key.keyid], 1, bin_bits, BINS_PREFIX)
    by_bin: dict[str, dict[str, TargetFile]] = {name: {} for name in delegation.get_roles()}
    for path, target in targets.items():
        by_bin[delegation.get_role_for_target(path)][path] = target
    versions: dict[str, int] = {}
    signed_bins = 0
    for name, content in by_bin.items():
        body, version, fresh = _role(
            old,
            name,
            Targets(targets=content),
            signer=keys.bins,
            signed_at=signed_at,
            lifetime=lifetimes.bins,
        )
        files[f"{version}.{name}.json"], versions[name] = body, version
        signed_bins += fresh

    top = Targets(
        delegations=Delegations(
            keys={keys.bins.public_key.keyid: keys.bins.public_key}, succinct_roles=delegation
        )
    )
    body, versions[Targets.type], _ = _role(
        old, Targets.type, top, signer=keys.targets, signed_at=signed_at, lifetime=lifetimes.targets
    )
    files[f"{versions[Targets.type]}.targets.json"] = body

    snapshot = Snapshot(meta={f"{name}.json": MetaFile(v) for name, v in sorted(versions.items())})
    body, snapshot_version, _ = _role(
        old,
        Snapshot.type,
        snapshot,
        signer=keys.snapshot,
        signed_at=signed_at,
        lifetime=lifetimes.snapshot,
    )
    files[f"{snapshot_version}.snapshot.json"] = body

    timestamp = Timestamp(
        version=next_version(old.timestamp_version, signed_at),
        expires=expires(signed_at, lifetimes.timestamp),
        snapshot_meta=MetaFile.from_data(snapshot_version, body, [HASH_ALGORITHM]),
    )
    files["timestamp.json"] = sign_all(Metadata(timestamp), [keys.timestamp])
    for metadata in history:
        files[f"{metadata.signed.version}.root.json"] = metadata.to_bytes(SERIALIZER)
    files["root.json"] = history[-1].to_bytes(SERIALIZER)

    _write(api_dir, files, targets)
    return SignReport(
        root_version=root.version,
        targets_version=versions[Targets.type],
        snapshot_version=snapshot_version,
        timestamp_version=timestamp.version,
        target_count=len(targets),
        bins_signed=signed_bins,
        bins_kept=len(by_bin) - signed_bins,
    )


def next_version(previous: int, signed_at: datetime) -> int:
    """The version of metadata signed anew: past the previous one and at least the time of
    signing in seconds. Clients refuse a version lower than one they saw, so versions must
    only go up; with the clock in them they do even when a publish runs without the previous
    metadata (all is then re-signed, and nothing goes back)."""
    return max(previous + 1, int(signed_at.timestamp()))


def _role(
    old: _Previous,
    name: str,
    signed: Targets | Snapshot,
    *,
    signer: CryptoSigner,
    signed_at: datetime,
    lifetime: timedelta,
) -> tuple[bytes, int, bool]:
    """(bytes, version, signed anew) of role `name` with the content of `signed`: the
    previous publication's when its content and signer are the same and more than half its
    lifetime is left, else a new version."""
    previous = old.roles.get(name)
    if previous is not None:
        metadata, body = previous
        kept = metadata.signed
        same = _content(kept) == _content(signed) and set(metadata.signatures) == {
            signer.public_key.keyid
        }
        if same and kept.expires - signed_at > lifetime / 2:
            return body, kept.version, False
        signed.version = next_version(kept.version, signed_at)
    else:
        signed.version = next_version(0, signed_at)
    signed.expires = expires(signed_at, lifetime)
    return sign_all(Metadata(signed), [signer]), signed.version, True


def _content(signed: Signed) -> dict[str, Any]:
    """What a role says, without its version and expiry."""
    data = signed.to_dict()
    for key in ("version", "expires"):
        data.pop(key, None)
    return data


def _check_keys(root: Root, keys: OnlineKeys, roots: Path) -> None:
    for role in ONLINE_TOP_ROLES:
        keyid = keys.for_role(role).public_key.keyid
        if keyid not in root.roles[role].keyids:
            raise HubError(
                f"the {role} key ({keyid[:16]}) is not one of the {role} keys of root version "
                f"{root.version} in {roots}",
                hint="sign with the keys of the newest `ebpf-hub trust` ceremony",
            )


def _read_previous(directory: Path) -> _Previous:
    """The publication in `directory`, followed from its timestamp; none when it has none.

    Read without checking signatures: these are the signer's own files, and the worst a
    damaged one can do is make versions jump, never make a client accept anything.
    """
    stamp_path = directory / "timestamp.json"
    if not stamp_path.is_file():
        return _Previous({}, 0)
    stamp = parse(stamp_path.read_bytes(), Timestamp, str(stamp_path))
    snapshot = _load(directory, Snapshot.type, stamp.signed.snapshot_meta.version, Snapshot)
    roles: dict[str, tuple[Metadata[Any], bytes]] = {Snapshot.type: snapshot}
    for filename, meta in snapshot[0].signed.meta.items():
        name = filename.removesuffix(".json")
        roles[name] = _load(directory, name, meta.version, Targets)
    return _Previous(roles, stamp.signed.version)


def _load(directory: Path, name: str, version: int, kind: type[R]) -> tuple[Metadata[R], bytes]:
    path = directory / f"{version}.{name}.json"
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise HubError(
            f"the previous publication lacks {path} ({exc.strerror})",
            hint="pass --previous with the metadata directory of the site being replaced",
        ) from None
    return parse(body, kind, str(path)), body


def _collect_targets(api_dir: Path) -> dict[str, TargetFile]:
    """Every file under `api_dir` but the metadata and the hashed copies, by its path there.

    No link is followed: a link in the index would sign whatever it points to.
    """
    targets = {}
    for directory, subdirs, names in os.walk(api_dir):
        here = Path(directory)
        for name in [*subdirs, *names]:
            if (here / name).is_symlink():
                raise HubError(
                    f"{here / name} is a symbolic link",
                    hint="the index must hold regular files only; replace it with the file",
                )
        if here == api_dir:
            subdirs[:] = [d for d in subdirs if d != METADATA_DIR and not d.startswith(".")]
        for name in names:
            if HASHED_NAME.fullmatch(name) or name.startswith("."):
                continue
            path = (here / name).relative_to(api_dir).as_posix()
            targets[path] = TargetFile.from_data(path, (here / name).read_bytes(), [HASH_ALGORITHM])
    if not targets:
        raise HubError(f"{api_dir} holds no index files", hint="build the site or index first")
    return targets


def _write(api_dir: Path, files: Mapping[str, bytes], targets: Mapping[str, TargetFile]) -> None:
    """The metadata directory, replaced whole, and a `SHA256.NAME` link beside each target:
    the ones of files that changed are removed, the others kept."""
    wanted: dict[Path, Path] = {}
    for relative, target in targets.items():
        source = api_dir / relative
        wanted[source.with_name(f"{target.hashes[HASH_ALGORITHM]}.{source.name}")] = source
    for directory, _subdirs, names in os.walk(api_dir):
        for name in names:
            found = Path(directory) / name
            if HASHED_NAME.fullmatch(name) and wanted.pop(found, None) is None:
                found.unlink()
    for copy, source in wanted.items():
        try:
            os.link(source, copy)
        except OSError:  # another file system underneath, or links not allowed: copy
            shutil.copyfile(source, copy)
    staged = Path(tempfile.mkdtemp(dir=api_dir, prefix=f".{METADATA_DIR}.new."))
    try:
        for name, body in files.items():
            (staged / name).write_bytes(body)
            (staged / name).chmod(0o644)
        staged.chmod(0o755)
        replace_directory(staged, api_dir / METADATA_DIR)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
