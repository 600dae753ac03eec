"""What is installed: one directory per package under `data_dir()/packages/`.

    packages/<name>/installed.json     the record: version, digest, config, files, when
    packages/<name>/<digest hex>/      the verified files of that version (objects, README...)

The record is the commit point of an install: it is written atomically, and only after the
files it names are complete, so a reader sees the old version or the new one, never a mix,
and a crash leaves at most an unreferenced directory that the next install (or `remove`)
sweeps away. Readers need no lock; writers (`ebpf_hub.client.install`) hold the package lock.
This module only reads JSON and paths, so `ebpf-hub list` starts without the network stack.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import sync_files, write_atomic
from ebpf_hub.paths import data_dir

RECORD = "installed.json"
RECORD_VERSION = 1
OBJECT_SUFFIX = ".bpf.o"
_FIELDS = ("name", "version", "digest", "installed", "directory", "files", "config")


@dataclass(frozen=True)
class InstalledPackage:
    """One installed package version, as the runner and `ebpf-hub list` need it."""

    name: str
    version: str
    digest: str  # the manifest digest the hub pinned and the install verified
    installed: str  # ISO 8601 UTC time of the install
    path: Path  # the directory holding the files
    files: list[Path]  # every file of the artifact, in manifest order
    config: dict[str, Any]  # the artifact's config: programs, maps, events, requirements
    reference: str  # where it was pulled from, pinned by digest
    verified: bool  # False only when installed with --allow-unsigned (or policy) unverified
    spec: str | None = None  # the line asked for (`1`, `1.2`), kept by `upgrade`

    @property
    def objects(self) -> list[Path]:
        """The CO-RE objects (`*.bpf.o`) to load, in manifest order."""
        return [path for path in self.files if path.name.endswith(OBJECT_SUFFIX)]

    def to_json(self) -> dict[str, Any]:
        """The package for `--json` output (without the config, which `info` shows)."""
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "installed": self.installed,
            "path": str(self.path),
            "objects": [str(path) for path in self.objects],
            "reference": self.reference,
            "verified": self.verified,
            "spec": self.spec,
        }


def packages_root() -> Path:
    """Where installed packages live."""
    return data_dir() / "packages"


def package_dir(name: str) -> Path:
    """The directory of one package (record and version directories)."""
    return packages_root() / name


def installed_package(name: str) -> InstalledPackage:
    """The installed version of `name`, or a one-line error saying how to install it."""
    found = find_installed(name)
    if found is None:
        raise HubError(f"{name} is not installed; install it with `ebpf-hub install {name}`")
    return found


def find_installed(name: str) -> InstalledPackage | None:
    """The installed version of `name`, or None; a damaged record is an error."""
    record = package_dir(name) / RECORD
    try:
        raw = record.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HubError(f"cannot read {record} ({exc.strerror}); check its permissions") from None
    return _parse(record, raw)


def list_installed() -> list[InstalledPackage]:
    """Every installed package, by name."""
    root = packages_root()
    if not root.is_dir():
        return []
    found = (find_installed(entry.name) for entry in sorted(root.iterdir()) if entry.is_dir())
    return [package for package in found if package is not None]


def write_record(
    directory: Path, config: dict[str, Any], files: list[Path], **fields: Any
) -> InstalledPackage:
    """Commit an install: the record naming `directory` (inside the package dir) and its files.

    The files came from the blob cache, unsynced: they reach the disk before the record does.
    """
    sync_files(files)
    record = {
        "record_version": RECORD_VERSION,
        "directory": directory.name,
        "files": [path.name for path in files],
        "config": config,
        **fields,
    }
    path = directory.parent / RECORD
    write_atomic(path, json.dumps(record, indent=1, sort_keys=True).encode() + b"\n")
    return _parse(path, path.read_bytes())


def sweep(name: str, keep: str | None) -> None:
    """Remove everything of `name`'s directory but the record and the `keep` directory.

    Called under the package lock: what it removes are old versions and leftovers of an
    interrupted install, which no record points to. With nothing kept and no record, the
    package directory itself goes.
    """
    directory = package_dir(name)
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        if entry.name in (RECORD, keep):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if keep is None and not (directory / RECORD).exists():
        directory.rmdir()


def delete(name: str) -> None:
    """Uninstall `name`: the record first (the package is then gone), then its files."""
    (package_dir(name) / RECORD).unlink(missing_ok=True)
    sweep(name, keep=None)


def _parse(record: Path, raw: bytes) -> InstalledPackage:
    damaged = (
        f"{record} is damaged; reinstall with `ebpf-hub install {record.parent.name}` "
        "or remove the directory"
    )
    try:
        data = json.loads(raw)
    except ValueError:
        raise HubError(damaged) from None
    if not isinstance(data, dict) or any(key not in data for key in _FIELDS):
        raise HubError(damaged)
    names = [str(name) for name in data["files"]]
    directory = record.parent / str(data["directory"])
    plain = all(_plain(name) for name in [directory.name, *names])
    if not plain or directory.parent != record.parent or not directory.is_dir():
        raise HubError(damaged)
    return InstalledPackage(
        name=str(data["name"]),
        version=str(data["version"]),
        digest=str(data["digest"]),
        installed=str(data["installed"]),
        path=directory,
        files=[directory / name for name in names],
        config=dict(data["config"]),
        reference=str(data.get("reference", "")),
        verified=bool(data.get("verified", False)),
        spec=data.get("spec"),
    )


def _plain(name: str) -> bool:
    """A file name that stays in its directory (the record is trusted, but not blindly)."""
    return bool(name) and "/" not in name and name not in (".", "..")
