"""The matrix ledger: the results of each package version, `DIR/<name>/<version>/`.

It sits beside the digest ledger (`build/matrix/` beside `build/digests.json`) and is what
`ebpf-hub index --matrix` and `site build --matrix` summarise into the JSON index and the
pages. A version's results are a file per kernel (`x86_64-5.10.json`, deterministic JSON,
written atomically), read back as one record: the publish workflow's jobs, one per kernel,
each write their own files, so CI merges their directories by copying them together, and a
kernel tested again replaces only its own file.

The registry is the truth for what is published, and the ledger only holds what one run
tested (CI's holds the versions of one merge): `from_registry` reads the record of every
other published version back from the signed attestation publish attached to its digest.

Nothing here follows a link: a ledger directory or file that is one is refused.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import link_refused, open_regular, write_atomic
from ebpf_hub.index.jsonindex import Digests, to_json_bytes
from ebpf_hub.matrix.record import PREDICATE_TYPE, KernelOutcome, VersionMatrix
from ebpf_hub.model.matrix import Matrices
from ebpf_hub.oci.keyenv import PUBLIC_KEY_ENV
from ebpf_hub.oci.store import Store
from ebpf_hub.parallel import MAX_WORKERS
from ebpf_hub.publish.ledger import read_per_package
from ebpf_hub.publish.pipeline import Destination
from ebpf_hub.safetext import quote

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_DIR = Path("build/matrix")
_SUFFIX = ".json"
_HINT = "delete it and run `ebpf-hub publish --matrix` again"
_ATTESTED_HINT = (
    f"check that --public-key / {PUBLIC_KEY_ENV} is the hub's key; if it is, delete that "
    "referrer from the registry and attach the record again (`ebpf-hub publish --matrix`)"
)
Records = dict[str, dict[str, VersionMatrix]]  # name -> version -> record


def version_dir(directory: Path, name: str, version: str) -> Path:
    """Where the results of one version are: a file per kernel."""
    return directory / name / version


def _kernel_file(kernel: KernelOutcome) -> str:
    return f"{kernel.arch}-{kernel.kernel}{_SUFFIX}"


def record(directory: Path, records: Iterable[VersionMatrix]) -> list[Path]:
    """Write each record's kernels, one file each (a kernel tested again is replaced)."""
    written = []
    for new in records:
        where = version_dir(directory, new.name, new.version)
        for part in (directory, where.parent, where):
            _real_directory(part, create=True)
        for kernel in new.kernels:
            path = where / _kernel_file(kernel)
            one = VersionMatrix(new.name, new.version, (kernel,))
            write_atomic(path, to_json_bytes(one.to_json()))
            written.append(path)
    return written


def read_version(directory: Path, name: str, version: str) -> VersionMatrix | None:
    """Every kernel recorded for `name` `version`, as one record; None when none is."""
    where = version_dir(directory, name, version)
    if not _real_directory(where, create=False):
        return None
    merged = VersionMatrix(name, version, ())
    for path in sorted(where.glob(f"*{_SUFFIX}")):
        merged = merged.merged(_read(path, name, version))
    return merged if merged.kernels else None


def _read(path: Path, name: str, version: str) -> VersionMatrix:
    """One kernel's results file, which must say what its path says; else refused."""
    try:
        with open_regular(path) as file:
            data = json.loads(file.read())
    except (OSError, ValueError) as exc:
        raise HubError(f"{path}: cannot read the matrix results ({exc})", hint=_HINT) from None
    try:
        found = VersionMatrix.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise HubError(f"{path}: not a matrix results file", hint=_HINT) from None
    named = [_kernel_file(kernel) for kernel in found.kernels]
    if (found.name, found.version, named) != (name, version, [path.name]):
        raise HubError(
            f"{path}: holds other results than its path names ({found.name} {found.version})",
            hint=_HINT,
        )
    return found


def load(directory: Path | None) -> Records:
    """Every record under `directory` (none: no directory, or it does not exist)."""
    found: Records = {}
    if directory is None or not _real_directory(directory, create=False):
        return found
    for package in sorted(directory.iterdir()):
        if not _real_directory(package, create=False):
            continue  # a stray file beside the package directories
        for version in sorted(package.iterdir()):
            entry = read_version(directory, package.name, version.name)
            if entry is not None:
                found.setdefault(package.name, {})[version.name] = entry
    return found


def from_registry(
    published: Digests,
    destination: Destination,
    known: Mapping[str, Mapping[str, VersionMatrix]],
    public_key: ec.EllipticCurvePublicKey | None,
    *,
    jobs: int = MAX_WORKERS,
) -> Records:
    """`known` completed with the attested record of every version of `published` (the
    digests the index pins) that it lacks, read from `destination` one package per thread as
    the digest fill reads; a version with no attestation has no record."""
    records = {name: dict(versions) for name, versions in known.items()}
    lacking = {
        name: [version for version in versions if version not in records.get(name, {})]
        for name, versions in published.items()
    }

    def read(store: Store, name: str, version: str) -> VersionMatrix | None:
        return attested_record(store, name, version, published[name][version].digest, public_key)

    for name, found in read_per_package(destination, lacking, read, jobs=jobs).items():
        records.setdefault(name, {}).update(found)
    return records


def attested_record(
    store: Store,
    name: str,
    version: str,
    digest: str,
    public_key: ec.EllipticCurvePublicKey | None,
) -> VersionMatrix | None:
    """The record of `name` `version` that `matrixstep.attest` attached to `digest`, or None
    when none is attached. Every one attached counts, the later replacing the earlier's
    kernels, as the ledger merges a kernel tested again.

    A record the index cannot trust stops it rather than vanishing from it: a statement that
    does not verify with `public_key` or is about another digest, one naming another package
    or version, and, with no key to check them, any attached at all.
    """
    from ebpf_hub.oci.attestation import attached_statements, verified_predicates

    label = f"{name} {version}"
    if public_key is None:
        if attached_statements(store, digest, PREDICATE_TYPE):
            raise HubError(
                f"{label}: the registry holds a kernel-matrix record of {digest} and no public "
                "key is configured to verify it",
                hint=f"pass --public-key FILE or set {PUBLIC_KEY_ENV} (the hub's public key)",
            )
        return None
    problems: list[str] = []
    predicates = verified_predicates(
        store, digest, PREDICATE_TYPE, public_key, problems, what="kernel-matrix record"
    )
    if problems:
        raise HubError(f"{label}: {problems[0]}", hint=_ATTESTED_HINT)
    merged = VersionMatrix(name, version, ())
    for predicate in predicates:
        try:
            found = VersionMatrix.from_json(predicate)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise HubError(
                f"{label}: the signed kernel-matrix record of {digest} is not one",
                hint=_ATTESTED_HINT,
            ) from None
        if (found.name, found.version) != (name, version):
            raise HubError(
                f"{label}: the kernel-matrix record attached to {digest} is about "
                f"{quote(found.name)} {quote(found.version)}",
                hint="delete that referrer from the registry (`oras discover` lists them) and "
                "attach this version's record again (`ebpf-hub publish --matrix`)",
            )
        merged = merged.merged(found)
    return merged if merged.kernels else None


def summaries(records: Mapping[str, Mapping[str, VersionMatrix]]) -> Matrices:
    """What the JSON index lists: each recorded version's verdict per kernel."""
    return {
        name: {version: entry.verdicts() for version, entry in versions.items()}
        for name, versions in records.items()
    }


def _real_directory(path: Path, *, create: bool) -> bool:
    """Whether `path` is a directory (made if `create`); a link or a file there is refused."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        if not create:
            return False
        path.mkdir(parents=True, exist_ok=True)
        return True
    if stat.S_ISLNK(mode):
        raise link_refused(path)
    if not stat.S_ISDIR(mode):
        if create:
            raise HubError(f"{path}: not a directory", hint="remove it and run again")
        return False
    return True
