"""What is installed: one directory per package under `data_dir()/packages/`.

    packages/<name>/installed.json     the record: version, digest, config, files, when
    packages/<name>/<digest hex>/      the verified files of that version (objects, README...)

The record is the commit point of an install: it is written atomically, and only after the
files it names are complete, so a reader sees the old version or the new one, never a mix,
and a crash leaves at most an unreferenced directory that the next install (or `remove`)
sweeps away. Readers need no lock; writers (`ebpf_hub.client.install`) hold the package lock.
This module only reads JSON and paths, so `ebpf-hub list` starts without the network stack.

Every directory here is opened through `ebpf_hub.privatedir` (no links, no directory of
another user) and every removal goes through an open directory (`remove_entry`): a link
planted as `packages/<name>` or inside it is refused or unlinked, never followed.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import (
    UnsafePathError,
    open_regular,
    remove_entry,
    sync_files,
    write_atomic,
)
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.matrix import KernelVerdict
from ebpf_hub.paths import data_dir
from ebpf_hub.privatedir import open_private_dir

PACKAGES = "packages"
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
    config: ArtifactConfig  # the artifact's config: its declarations, objects and build
    reference: str  # where it was pulled from, pinned by digest
    verified: bool  # False only when installed with --allow-unsigned (or policy) unverified
    spec: str | None = None  # the line asked for (`1`, `1.2`), kept by `upgrade`
    matrix: tuple[KernelVerdict, ...] | None = None  # the index's kernel matrix, if tested

    @property
    def objects(self) -> list[Path]:
        """The CO-RE objects (`*.bpf.o`) to load, in manifest order."""
        return object_files(self.files)

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


def object_files(files: Iterable[Path]) -> list[Path]:
    """The CO-RE objects (`*.bpf.o`) among an artifact's files, in manifest order."""
    return [path for path in files if path.name.endswith(OBJECT_SUFFIX)]


def package_dir(name: str) -> Path:
    """The directory of one package (record and version directories), for messages."""
    return data_dir() / PACKAGES / name


def version_dir(name: str, digest_hex: str) -> Path:
    """Where the version `digest_hex` of `name` is to be written, in the (created, checked)
    package directory, with whatever an interrupted install left there removed."""
    with open_private_dir(data_dir(), PACKAGES, name) as directory:
        remove_entry(directory, digest_hex)
    return package_dir(name) / digest_hex


def installed_package(name: str) -> InstalledPackage:
    """The installed version of `name`, or a one-line error saying how to install it."""
    found = find_installed(name)
    if found is None:
        raise HubError(
            f"{name} is not installed", hint=f"install it with `ebpf-hub install {name}`"
        )
    return found


def find_installed(name: str) -> InstalledPackage | None:
    """The installed version of `name`, or None; a damaged record is an error."""
    record = package_dir(name) / RECORD
    try:
        with (
            open_private_dir(data_dir(), PACKAGES, name, create=False) as directory,
            open_regular(record, directory=directory) as handle,
        ):
            raw = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HubError(
            f"cannot read {record} ({exc.strerror})", hint="check its permissions"
        ) from None
    return _parse(record, raw)


def current_install(name: str) -> InstalledPackage | None:
    """The installed version of `name`, or None if none is or its record is damaged (an
    install then replaces it); a link or a foreign directory in the way is still an error."""
    try:
        return find_installed(name)
    except UnsafePathError:
        raise
    except HubError:
        return None


def installed_matching(text: str, ignore_matrix: bool) -> InstalledPackage | None:
    """The installed version `NAME[@VERSION]` asks for, or None when it must be installed.

    It is used as it is, with no network at all, once checked against the kernel matrix
    recorded when it was installed (refused where the matrix saw it fail, unless
    `ignore_matrix`). The spec parser and the gate are imported here, not by `ebpf-hub list`.
    """
    from ebpf_hub.client.matrixgate import matrix_gate
    from ebpf_hub.client.resolve import parse_spec

    name, spec = parse_spec(text)
    current = current_install(name)
    if current is None or (spec is not None and not spec.matches(current.version)):
        return None
    matrix_gate(f"{name} {current.version}", current.matrix, ignore_matrix)
    return current


def list_installed() -> list[InstalledPackage]:
    """Every installed package, by name."""
    try:
        with open_private_dir(data_dir(), PACKAGES, create=False) as root, os.scandir(root) as it:
            names = sorted(entry.name for entry in it if entry.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []
    found = map(find_installed, names)
    return [package for package in found if package is not None]


def write_record(
    directory: Path, config: ArtifactConfig, files: list[Path], **fields: Any
) -> InstalledPackage:
    """Commit an install: the record naming `directory` (inside the package dir) and its files.

    The files came from the blob cache, unsynced: they reach the disk before the record does.
    """
    sync_files(files)
    record = {
        "record_version": RECORD_VERSION,
        "directory": directory.name,
        "files": [path.name for path in files],
        "config": config.to_json(),
        **fields,
    }
    path = directory.parent / RECORD  # checked by `version_dir`, and only we can change it
    data = json.dumps(record, indent=1, sort_keys=True).encode() + b"\n"
    write_atomic(path, data)
    return _parse(path, data)


def sweep(name: str, keep: str | None) -> None:
    """Remove everything of `name`'s directory but the record and the `keep` directory.

    Called under the package lock: what it removes are old versions and leftovers of an
    interrupted install, which no record points to. With nothing kept and no record, the
    package directory itself goes.
    """
    _clear(name, keep, drop_record=False)


def delete(name: str) -> bool:
    """Uninstall `name`: the record first (the package is then gone), then its files.

    False if there was no package directory at all.
    """
    return _clear(name, None, drop_record=True)


def _clear(name: str, keep: str | None, *, drop_record: bool) -> bool:
    """`sweep` and `delete`, through the package directory opened once: whatever is swapped
    for a link meanwhile, the removals stay inside it."""
    try:
        with open_private_dir(data_dir(), PACKAGES, name, create=False) as directory:
            if drop_record:
                remove_entry(directory, RECORD)
            with os.scandir(directory) as it:
                names = [entry.name for entry in it if entry.name not in (RECORD, keep)]
            for entry in names:
                remove_entry(directory, entry)
            emptied = keep is None and not _has(directory, RECORD)
    except FileNotFoundError:
        return False
    if emptied:
        package_dir(name).rmdir()  # rmdir never follows a link: it fails on one
    return True


def _has(directory: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=directory)
    except FileNotFoundError:
        return False
    return True


def _parse(record: Path, raw: bytes) -> InstalledPackage:
    damaged = HubError(
        f"{record} is damaged",
        hint=f"reinstall with `ebpf-hub install {record.parent.name}` or remove the directory",
    )
    try:
        data = json.loads(raw)
    except ValueError:
        raise damaged from None
    if not isinstance(data, dict) or any(key not in data for key in _FIELDS):
        raise damaged
    names = [str(name) for name in data["files"]]
    directory = record.parent / str(data["directory"])
    plain = all(_plain(name) for name in [directory.name, *names])
    if not plain or directory.parent != record.parent or not _is_real_directory(directory):
        raise damaged
    try:
        config = ArtifactConfig.from_json(data["config"])  # checked when it was pulled
        matrix = data.get("matrix")
        verdicts = tuple(map(KernelVerdict.from_json, matrix)) if matrix is not None else None
    except (AttributeError, KeyError, TypeError, ValueError):
        raise damaged from None
    return InstalledPackage(
        name=str(data["name"]),
        version=str(data["version"]),
        digest=str(data["digest"]),
        installed=str(data["installed"]),
        path=directory,
        files=[directory / name for name in names],
        config=config,
        reference=str(data.get("reference", "")),
        verified=bool(data.get("verified", False)),
        spec=data.get("spec"),
        matrix=verdicts,
    )


def _is_real_directory(path: Path) -> bool:
    """A directory itself: a link to one is not the directory an install wrote."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _plain(name: str) -> bool:
    """A file name that stays in its directory (the record is trusted, but not blindly)."""
    return bool(name) and "/" not in name and name not in (".", "..")
