"""The offline ceremony: a new root, a root rotation, a revoked online key.

Each writes one new `N.root.json` into the roots directory (kept in the hub repository) and
private keys, 0600, into key directories: the root keys into one that should then leave the
machine (a token, a safe), the online keys into one whose files become the publish workflow's
secrets. A root version is valid only when signed by the threshold of its own root keys and,
from version 2 on, of the previous version's: what `read_roots` checks before anything is
signed, and what a client checks when it walks from the root it trusts to the newest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Root

from ebpf_hub.errors import HubError
from ebpf_hub.oci.keys import write_private_key
from ebpf_hub.privatedir import private_dir
from ebpf_hub.safetext import quote
from ebpf_hub.trust.keys import KEY_SUFFIX, ONLINE_ROLES, load_signer, new_signer, write_signer
from ebpf_hub.trust.metadata import (
    ONLINE_TOP_ROLES,
    ROOT_FILE,
    expires,
    now,
    read_roots,
    write_root,
)

ROOT_KEY_PREFIX = "root-"


@dataclass(frozen=True)
class CeremonyResult:
    """What a ceremony wrote: the new root file and each new private key by role."""

    root_file: Path
    version: int
    keys: tuple[tuple[str, Path], ...]  # (role, private key file)
    revoked: tuple[str, ...] = ()  # keyids no longer trusted


def init_root(
    roots: Path,
    root_keys_dir: Path,
    online_keys_dir: Path,
    *,
    root_keys: int = 1,
    threshold: int = 1,
    lifetime: timedelta = timedelta(days=365),
) -> CeremonyResult:
    """Root version 1: `root_keys` new root keys of which `threshold` must sign, and one new
    key for each online role."""
    _check_threshold(root_keys, threshold)
    roots.mkdir(parents=True, exist_ok=True)
    if any(ROOT_FILE.fullmatch(entry.name) for entry in roots.iterdir()):
        raise HubError(
            f"{roots} already holds a root",
            hint="rotate it with `ebpf-hub trust rotate-root` instead",
        )
    root = Root(expires=expires(now(), lifetime), consistent_snapshot=True)
    root_signers = [new_signer() for _ in range(root_keys)]
    for signer in root_signers:
        root.add_key(signer.public_key, Root.type)
    root.roles[Root.type].threshold = threshold
    online = {role: new_signer() for role in ONLINE_ROLES}
    for role in ONLINE_TOP_ROLES:
        root.add_key(online[role].public_key, role)
    written = _write_root_keys(root_keys_dir, root_signers)
    _key_dir(online_keys_dir)
    for role, signer in online.items():
        path = online_keys_dir / f"{role}{KEY_SUFFIX}"
        write_signer(path, signer)
        written.append((role, path))
    metadata = Metadata(root)
    _sign(metadata, root_signers)
    return CeremonyResult(write_root(roots, metadata), 1, tuple(written))


def rotate_root(
    roots: Path,
    root_keys_dir: Path,
    *,
    root_keys: int | None = None,
    threshold: int | None = None,
    lifetime: timedelta = timedelta(days=365),
) -> CeremonyResult:
    """The next root version with new root keys (as many as before unless `root_keys`),
    signed by the old keys found in `root_keys_dir` and by the new ones. Also what renews a
    root before it expires."""
    previous = read_roots(roots)[-1]
    old_role = previous.signed.roles[Root.type]
    count = root_keys or len(old_role.keyids)
    wanted = threshold or old_role.threshold
    _check_threshold(count, wanted)
    old_signers = _root_signers(root_keys_dir, previous.signed)
    new_signers = [new_signer() for _ in range(count)]
    root = _next_root(previous, lifetime)
    for keyid in list(root.roles[Root.type].keyids):
        root.revoke_key(keyid, Root.type)
    for signer in new_signers:
        root.add_key(signer.public_key, Root.type)
    root.roles[Root.type].threshold = wanted
    metadata = Metadata(root)
    _sign(metadata, [*old_signers, *new_signers], previous.signed)
    written = _write_root_keys(root_keys_dir, new_signers)
    return CeremonyResult(
        write_root(roots, metadata), root.version, tuple(written), tuple(old_role.keyids)
    )


def revoke_key(
    roots: Path,
    root_keys_dir: Path,
    online_keys_dir: Path,
    keyid: str,
    *,
    lifetime: timedelta = timedelta(days=365),
) -> CeremonyResult:
    """The next root version without the online key `keyid` (or a unique prefix of at least
    8 hex digits): each role it served gets a new key, written over `ROLE.key`."""
    previous = read_roots(roots)[-1]
    found = _find_key(previous.signed, keyid)
    roles = [role for role in ONLINE_TOP_ROLES if found in previous.signed.roles[role].keyids]
    if found in previous.signed.roles[Root.type].keyids:
        raise HubError(
            f"key {found[:16]} is a root key",
            hint="replace root keys with `ebpf-hub trust rotate-root`",
        )
    root = _next_root(previous, lifetime)
    signers = {role: new_signer() for role in roles}
    for role, signer in signers.items():
        root.revoke_key(found, role)
        root.add_key(signer.public_key, role)
    metadata = Metadata(root)
    _sign(metadata, _root_signers(root_keys_dir, previous.signed), previous.signed)
    _key_dir(online_keys_dir)
    written = []
    for role, signer in signers.items():  # only once the new root is known to be valid
        path = online_keys_dir / f"{role}{KEY_SUFFIX}"
        write_private_key(path, signer.private_bytes, replace=True)
        written.append((role, path))
    return CeremonyResult(write_root(roots, metadata), root.version, tuple(written), (found,))


def _next_root(previous: Metadata[Root], lifetime: timedelta) -> Root:
    root = copy.deepcopy(previous.signed)
    root.version += 1
    root.expires = expires(now(), lifetime)
    return root


def _find_key(root: Root, wanted: str) -> str:
    wanted = wanted.lower()
    matches = [keyid for keyid in root.keys if keyid.startswith(wanted)]
    if len(wanted) < 8 or len(matches) != 1:
        known = ", ".join(
            f"{role} {keyid[:16]}" for role, r in root.roles.items() for keyid in r.keyids
        )
        raise HubError(
            f"{quote(wanted)} names no single key of root version {root.version}",
            hint=f"give 8 or more hex digits of one of: {known}",
        )
    return matches[0]


def _root_signers(directory: Path, root: Root) -> list[CryptoSigner]:
    """The keys in `directory` that sign for `root`'s root role, at least its threshold."""
    role = root.roles[Root.type]
    signers = []
    for path in sorted(directory.glob(f"{ROOT_KEY_PREFIX}*{KEY_SUFFIX}")):
        signer = load_signer(path)
        if signer.public_key.keyid in role.keyids:
            signers.append(signer)
    if len(signers) < role.threshold:
        raise HubError(
            f"{directory} holds {len(signers)} of the {role.threshold} root key(s) that root "
            f"version {root.version} needs",
            hint="bring the offline root keys (root-*.key) and pass their directory",
        )
    return signers


def _write_root_keys(directory: Path, signers: list[CryptoSigner]) -> list[tuple[str, Path]]:
    _key_dir(directory)
    written = []
    for signer in signers:
        path = directory / f"{ROOT_KEY_PREFIX}{signer.public_key.keyid[:16]}{KEY_SUFFIX}"
        write_signer(path, signer)
        written.append((Root.type, path))
    return written


def _sign(
    metadata: Metadata[Root], signers: list[CryptoSigner], previous: Root | None = None
) -> None:
    """Sign, then check the thresholds a client will check, before anything is written."""
    for signer in signers:
        metadata.sign(signer, append=True)
    for delegator in (previous, metadata.signed):
        if delegator is None:
            continue
        try:
            delegator.verify_delegate(Root.type, metadata.signed_bytes, metadata.signatures)
        except UnsignedMetadataError as exc:
            raise HubError(
                f"root version {metadata.signed.version} would not be valid ({exc})",
                hint="bring enough root keys",
            ) from None


def _key_dir(directory: Path) -> None:
    """A directory for private keys: new ones are made 0700, and none may be another user's."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_dir(directory)


def _check_threshold(keys: int, threshold: int) -> None:
    if not 1 <= threshold <= keys:
        raise HubError(
            f"a threshold of {threshold} needs between 1 and {keys} key(s)",
            hint="pass --threshold N with N no larger than --root-keys",
        )
