"""The matrix ledger: the results of each package version, `DIR/<name>/<version>/`.

It sits beside the digest ledger (`build/matrix/` beside `build/digests.json`) and is what
`ebpf-hub index --matrix` and `site build --matrix` summarise into the JSON index and the
pages. A version's results are a file per kernel (`x86_64-5.10.json`, deterministic JSON,
written atomically), read back as one record: the publish workflow's jobs, one per kernel,
each write their own files, so CI merges their directories by copying them together, and a
kernel tested again replaces only its own file.

Nothing here follows a link: a ledger directory or file that is one is refused.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import link_refused, open_regular, write_atomic
from ebpf_hub.index.jsonindex import to_json_bytes
from ebpf_hub.matrix.record import KernelOutcome, VersionMatrix
from ebpf_hub.model.matrix import KernelVerdict, Matrices

DEFAULT_DIR = Path("build/matrix")
_SUFFIX = ".json"
_HINT = "delete it and run `ebpf-hub publish --matrix` again"


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


def load(directory: Path | None) -> dict[str, dict[str, VersionMatrix]]:
    """Every record under `directory` (none: no directory, or it does not exist)."""
    found: dict[str, dict[str, VersionMatrix]] = {}
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


def summaries(directory: Path | None) -> Matrices:
    """What the JSON index lists: each recorded version's verdict per kernel."""
    summary: dict[str, dict[str, tuple[KernelVerdict, ...]]] = {}
    for name, versions in load(directory).items():
        summary[name] = {version: entry.verdicts() for version, entry in versions.items()}
    return summary


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
