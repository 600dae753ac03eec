"""Installing, upgrading and removing packages: resolve, fetch verified, commit, under a lock.

A version is resolved through `packages/<name>.json` (one small file, not the whole index),
fetched by the digest the hub pins (`ebpf_hub.client.fetch` verifies everything), written to
a new directory beside the installed one and committed by atomically replacing the package's
record (`ebpf_hub.client.installed`). All of it happens under a per-package file lock, so
concurrent installs of one package queue up, and the later ones find it installed. Any
failure sweeps away what the attempt wrote: the previous install, if any, is left as it was.

The OCI and network stack (`fetch`, `ebpf_hub.oci`: HTTP, cryptography) is imported only
by the functions that download: `ensure_installed`, which the runner calls before every run,
then costs nothing but reading a record when the package is installed already.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import warn
from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.installed import (
    InstalledPackage,
    current_install,
    delete,
    installed_matching,
    installed_package,
    list_installed,
    object_files,
    sweep,
    version_dir,
    write_record,
)
from ebpf_hub.client.matrixgate import matrix_gate
from ebpf_hub.client.names import check_name
from ebpf_hub.client.policy import Candidate, enforce
from ebpf_hub.client.resolve import parse_spec, resolve
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from ebpf_hub.locking import LockTimeout, file_lock
from ebpf_hub.model.version_spec import VersionSpec
from ebpf_hub.paths import data_dir
from ebpf_hub.privatedir import private_dir
from ebpf_hub.safetext import quote

if TYPE_CHECKING:
    from ebpf_hub.client.fetch import Fetched, Source
    from ebpf_hub.model.index import IndexVersion
    from ebpf_hub.oci.imageindex import Platform
    from ebpf_hub.oci.reference import Reference

LOCK_TIMEOUT = 600.0  # seconds to wait for another client working on the same package


@dataclass(frozen=True)
class Installed:
    """The outcome of an install: `changed` is False when that digest was installed already."""

    package: InstalledPackage
    changed: bool


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` would do to one installed package (`entry` None: nothing to do)."""

    current: InstalledPackage
    entry: IndexVersion | None = None  # the version of packages/<name>.json to move to
    error: str | None = None  # why it cannot be checked (e.g. gone from the hub)

    @property
    def target(self) -> str | None:
        """The version it would move to."""
        return self.entry.version if self.entry else None


def install(
    settings: Settings, text: str, *, allow_unsigned: bool = False, ignore_matrix: bool = False
) -> Installed:
    """Install `NAME[@VERSION]`: the newest release, a line (`@1.2`) or an exact version;
    refused on a kernel where the hub's matrix saw that version fail, unless `ignore_matrix`."""
    name, spec = parse_spec(text)
    with HubIndex(settings) as hub:
        package = hub.package(name)
    resolution = resolve(package, spec)
    if resolution.warning:
        warn(resolution.warning)
    chosen = resolution.version
    matrix_gate(f"{name} {chosen.version}", chosen.matrix, ignore_matrix)
    line = spec.line if spec is not None else None
    return _install_version(settings, name, resolution.version, line, allow_unsigned)


def ensure_installed(
    settings: Settings, text: str, allow_unsigned: bool = False, ignore_matrix: bool = False
) -> InstalledPackage:
    """The installed package `NAME[@VERSION]` names, installing it first if needed.

    An installed version that satisfies the spec is used as it is, with no network at all,
    and checked against the kernel matrix recorded when it was installed.
    """
    found = installed_matching(text, ignore_matrix)
    if found is not None:
        return found
    return install(
        settings, text, allow_unsigned=allow_unsigned, ignore_matrix=ignore_matrix
    ).package


def plan_upgrades(settings: Settings, names: list[str]) -> list[Upgrade]:
    """For each named installed package (none named: all), the newest version allowed.

    Allowed means: a release (not yanked, not a prerelease) within the line the package was
    installed with (`install NAME@1.2` stays on 1.2.x), newer than the installed one.
    """
    installed = [installed_package(name) for name in names] if names else list_installed()
    plans = []
    with HubIndex(settings) as hub:
        for current in installed:
            try:
                line = VersionSpec.parse(current.spec) if current.spec is not None else None
                entry = resolve(hub.package(current.name), line).version
            except HubError as exc:
                plans.append(Upgrade(current, error=str(exc)))
                continue
            newer = entry.is_newer_than(current.version)
            plans.append(Upgrade(current, entry if newer else None))
    return plans


def apply_upgrade(
    settings: Settings, plan: Upgrade, *, allow_unsigned: bool = False, ignore_matrix: bool = False
) -> Installed:
    """Install the version `plan` chose, keeping the installed line; refused, as `install`
    is, on a kernel where the hub's matrix saw that version fail, unless `ignore_matrix`."""
    if plan.entry is None:
        return Installed(plan.current, changed=False)
    current = plan.current
    matrix_gate(f"{current.name} {plan.entry.version}", plan.entry.matrix, ignore_matrix)
    return _install_version(settings, current.name, plan.entry, current.spec, allow_unsigned)


@contextmanager
def preview_upgrade(
    settings: Settings, plan: Upgrade, *, allow_unsigned: bool = False
) -> Iterator[list[Path]]:
    """The objects of the version `plan` chose, fetched and verified as an install would into
    a temporary directory removed afterwards, so `upgrade --dry-run` can read what they do.
    The blobs stay in the cache: the upgrade itself then needs no network."""
    if plan.entry is None:
        raise HubError(f"{plan.current.name} has no newer version to preview")
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-preview-") as work:
        fetched = fetch_version(
            settings, plan.current.name, plan.entry, Path(work) / "files", allow_unsigned
        )
        yield object_files(fetched.artifact.files)


def remove(name: str) -> InstalledPackage | None:
    """Uninstall `name`, leaving nothing of it; returns what was installed (None if damaged)."""
    check_name(name)
    with package_lock(name):
        current = current_install(name)
        if not delete(name):
            raise HubError(f"{name} is not installed", hint="`ebpf-hub list` shows what is")
    return current


def pull(
    settings: Settings,
    text: str,
    out_dir: Path,
    *,
    allow_unsigned: bool = False,
    platform: Platform | None = None,
) -> Fetched:
    """Fetch an artifact, verified as install does, into `out_dir` (which must be empty).

    `text` is a reference by tag or digest (`HOST/NS/NAME:TAG`, `...@sha256:HEX`,
    `oci:DIR:TAG`), whose signature must name that repository; or `NAME[@VERSION]`,
    resolved through the hub like `install`. `platform` picks another architecture's build
    than this machine's (`pull --platform linux/arm64`).
    """
    from ebpf_hub.client.fetch import Source, fetch, resolve_tag
    from ebpf_hub.oci.reference import LAYOUT_PREFIX, parse_reference

    if not text.startswith(LAYOUT_PREFIX) and "/" not in text:
        name, spec = parse_spec(text)
        with HubIndex(settings) as hub:
            entry = resolve(hub.package(name), spec).version
        return fetch_version(settings, name, entry, out_dir, allow_unsigned, platform=platform)
    reference = parse_reference(text)
    source = Source(reference, reference.name)
    if reference.digest is not None:
        digest = reference.digest
    elif reference.tag is not None:
        digest = resolve_tag(settings, source, reference.tag)
    else:
        raise HubError(f"{quote(text)} names no version", hint="add :TAG or @sha256:DIGEST")
    return fetch(
        settings, source, digest, out_dir, allow_unsigned=allow_unsigned, platform=platform
    )


def hub_source(settings: Settings, name: str, entry: IndexVersion) -> Source:
    """Where a hub version is pulled from and which repository its signature must name.

    The index's reference is `REGISTRY/NAME:VERSION`; the signature names `REGISTRY/NAME` as
    `ebpf-hub publish` parsed it, and the bytes come from the configured registry (a mirror)
    if there is one, else from the index's.
    """
    from ebpf_hub.client.fetch import Source
    from ebpf_hub.oci.reference import parse_reference

    reference = entry.reference
    if (reference.repository, reference.tag) != (name, entry.version):
        raise HubError(
            f"the hub lists {quote(str(reference))} for {name} {entry.version}, which is not "
            f"REGISTRY/{name}:{entry.version}",
            hint="report it to the hub",
        )
    index_registry = reference.registry
    identity = parse_reference(reference.location).name
    location = parse_reference(f"{settings.registry_for(index_registry).rstrip('/')}/{name}")
    return Source(location, identity)


@contextmanager
def package_lock(name: str) -> Iterator[None]:
    """Hold the lock of one package: installs, upgrades and removals of it take turns.

    The lock files live in `data_dir()/locks` and stay there (empty): deleting a lock file
    that another process may be waiting on would let two of them in.
    """
    path = private_dir(data_dir(), "locks") / f"{name}.lock"
    try:
        with file_lock(path, LOCK_TIMEOUT):
            yield
    except LockTimeout:
        raise HubError(
            f"another ebpf-hub has been working on {name} for {LOCK_TIMEOUT:.0f} s (lock {path})",
            hint="wait for it to finish, then try again",
        ) from None


def fetch_version(
    settings: Settings,
    name: str,
    entry: IndexVersion,
    out_dir: Path,
    allow_unsigned: bool,
    *,
    location: Reference | None = None,
    platform: Platform | None = None,
) -> Fetched:
    """The hub's version `entry` of `name`, fetched by its pinned digest and verified; from
    `location` (an offline bundle's layout) instead of the registry if given."""
    from ebpf_hub.client.fetch import Source, fetch

    source = hub_source(settings, name, entry)
    return fetch(
        settings,
        source if location is None else Source(location, source.identity),
        _published_digest(name, entry),
        out_dir,
        allow_unsigned=allow_unsigned,
        expect=(name, entry.version),
        max_size=_size_limit(entry),
        platform=platform,
    )


def _install_version(
    settings: Settings, name: str, entry: IndexVersion, line: str | None, allow_unsigned: bool
) -> Installed:
    from ebpf_hub.oci.digest import check_digest

    digest = _published_digest(name, entry)
    source = hub_source(settings, name, entry)
    candidate = Candidate(name, entry.version, source.location.name, digest)
    enforce(candidate)  # the policy's package, registry and digest rules: before any download
    with package_lock(name):
        current = current_install(name)
        if current is not None and current.digest == digest:
            return Installed(current, changed=False)
        content = version_dir(name, check_digest(digest))
        try:
            fetched = fetch_version(settings, name, entry, content, allow_unsigned)
            signed = replace(candidate, signed=fetched.verified)
            enforce(signed, object_files(fetched.artifact.files))  # and what it can do
            installed = write_record(
                content,
                fetched.config,
                list(fetched.artifact.files),
                name=name,
                version=entry.version,
                digest=digest,
                installed=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                reference=source.pinned(digest),
                verified=fetched.verified,
                spec=line,
                matrix=[v.to_json() for v in entry.matrix] if entry.matrix is not None else None,
            )
        except BaseException:
            sweep(name, keep=current.path.name if current is not None else None)
            raise
        sweep(name, keep=content.name)
    return Installed(installed, changed=True)


def _published_digest(name: str, entry: IndexVersion) -> str:
    digest = entry.digest
    if digest is None:
        raise HubError(
            f"{name} {entry.version} is not published yet (the hub lists no digest for it)",
            hint=f"try again later, or pick another version (`ebpf-hub info {name}`)",
        )
    return digest


def _size_limit(entry: IndexVersion) -> int:
    """The index's size of the version caps what is downloaded for it."""
    from ebpf_hub.client.fetch import MAX_ARTIFACT_SIZE

    size = entry.size
    return min(size, MAX_ARTIFACT_SIZE) if size else MAX_ARTIFACT_SIZE
