"""Which version `install NAME[@SPEC]` means.

No spec means the newest release; `1` and `1.2` mean the newest release of that line; a full
version means exactly that one. "Release" excludes yanked versions and prereleases: a yanked
version is only installed when named exactly (with a warning), and a prerelease only when
named exactly, as Cargo and npm do, so nobody gets either by accident. What a spec selects is
`ebpf_hub.model.version_spec`'s; which of those versions is chosen is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ebpf_hub.client.names import check_name
from ebpf_hub.errors import HubError, NothingInstallableError
from ebpf_hub.model.version_spec import VersionSpec
from ebpf_hub.safetext import clip, quote

if TYPE_CHECKING:
    from ebpf_hub.model.index import IndexPackage, IndexVersion

_LISTED = 12  # versions named in a "not found" error before "and N more"


@dataclass(frozen=True)
class Resolution:
    """The chosen version of a package, and what the caller must print."""

    version: IndexVersion
    warning: str | None = None  # set when the chosen version is yanked


def parse_spec(text: str) -> tuple[str, VersionSpec | None]:
    """`NAME` or `NAME@SPEC` split into (name, spec or None), both checked."""
    name, at, spec = text.partition("@")
    check_name(name)
    if at and not spec:
        raise HubError(
            f"{quote(text)}: nothing after '@'", hint=f"write NAME@VERSION, e.g. {name}@1.2"
        )
    return name, VersionSpec.parse(spec) if spec else None


def resolve(package: IndexPackage, spec: VersionSpec | None) -> Resolution:
    """The version of `package` that `spec` selects (None: the newest release)."""
    name, versions = package.name, package.versions
    if spec is not None and spec.exact:
        for entry in versions:
            if spec.matches(entry.version):
                return Resolution(entry, _yank_warning(name, entry))
        raise NothingInstallableError(
            f"{name} has no version {clip(spec.text)}", hint=f"available: {_available(versions)}"
        )
    releases = [v for v in versions if v.released and (spec is None or spec.matches(v.version))]
    if releases:
        return Resolution(max(releases, key=lambda entry: entry.parsed))
    if spec is None:
        raise NothingInstallableError(
            f"{name} has no release to install by default (every version is yanked or a "
            "prerelease)",
            hint=f"name one exactly, e.g. {name}@VERSION; available: {_available(versions)}",
        )
    raise NothingInstallableError(
        f"{name} has no release matching {clip(spec.text)}",
        hint=f"available: {_available(versions)}",
    )


def _yank_warning(name: str, entry: IndexVersion) -> str | None:
    if entry.yanked is None:
        return None
    return (
        f"{name} {entry.version} is yanked ({entry.yanked}); "
        "installing it only because it was named exactly"
    )


def _available(versions: tuple[IndexVersion, ...]) -> str:
    """The versions, newest first, yanked ones marked; long lists are cut short."""
    ordered = sorted(versions, key=lambda entry: entry.parsed, reverse=True)
    shown = [e.version + (" (yanked)" if e.yanked is not None else "") for e in ordered]
    rest = len(shown) - _LISTED
    return ", ".join(shown[:_LISTED]) + (f", and {rest} more" if rest > 0 else "")
