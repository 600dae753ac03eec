"""Which installed packages the hub has a newer release of: `ebpf-hub outdated`, `list`.

"Newest" is what `install NAME` would choose (`ebpf_hub.client.resolve`): the newest version
that is neither yanked nor a prerelease. `upgrade` keeps a package installed as `NAME@1.2` on
the 1.2 line, so the version it would move to is reported beside the newest: the two differ
exactly when only a new line has something newer, and the user then has to ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.resolve import resolve
from ebpf_hub.errors import HubError, NothingInstallableError
from ebpf_hub.model.version_spec import VersionSpec

if TYPE_CHECKING:
    from ebpf_hub.client.installed import InstalledPackage
    from ebpf_hub.client.settings import Settings
    from ebpf_hub.model.index import IndexPackage, IndexVersion


@dataclass(frozen=True)
class Outdated:
    """One installed package beside the hub's releases of it (`error` set: not known)."""

    name: str
    installed: str  # the installed version
    line: str | None  # the spec it was installed with (`1.2`); `upgrade` keeps to it
    yanked: str | None  # why the hub withdrew the installed version, if it did
    newest: str | None  # the newest release; None when there is none, or on error
    upgrade: str | None  # what `ebpf-hub upgrade NAME` would move to; None: nothing newer
    outdated: bool  # whether `newest` is newer than the installed version
    error: str | None = None  # why the hub could not tell (not listed, not reachable...)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "installed": self.installed,
            "line": self.line,
            "yanked": self.yanked,
            "newest": self.newest,
            "upgrade": self.upgrade,
            "outdated": self.outdated if self.error is None else None,
            "error": self.error,
        }


def compare(
    settings: Settings, installed: list[InstalledPackage], *, offline: bool = False
) -> list[Outdated]:
    """Each of `installed` beside the hub's releases, through one index; `offline` reads only
    what is cached (a package never fetched is then an error, not a network request)."""
    if not installed:
        return []
    with HubIndex(settings, offline=offline) as hub:
        return [_compare(hub, current) for current in installed]


def _compare(hub: HubIndex, current: InstalledPackage) -> Outdated:
    try:
        package = hub.package(current.name)
        line = VersionSpec.parse(current.spec) if current.spec is not None else None
    except HubError as exc:
        return Outdated(
            current.name, current.version, current.spec, None, None, None, False, str(exc)
        )
    newest = _release(package, None)
    within_line = _release(package, line)
    listed = {entry.version: entry for entry in package.versions}.get(current.version)
    return Outdated(
        name=current.name,
        installed=current.version,
        line=current.spec,
        yanked=listed.yanked if listed is not None else None,
        newest=newest.version if newest is not None else None,
        upgrade=_if_newer(within_line, current.version),
        outdated=_if_newer(newest, current.version) is not None,
    )


def _release(package: IndexPackage, spec: VersionSpec | None) -> IndexVersion | None:
    """The version `install` would choose for `spec`, or None when no release matches."""
    try:
        return resolve(package, spec).version
    except NothingInstallableError:
        return None


def _if_newer(entry: IndexVersion | None, installed: str) -> str | None:
    """The version of the hub's `entry` if it is newer than `installed`."""
    if entry is None or not entry.is_newer_than(installed):
        return None
    return entry.version
