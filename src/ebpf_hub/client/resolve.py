"""Which version `install NAME[@SPEC]` means.

No spec means the newest release; `1` and `1.2` mean the newest release of that line; a full
version means exactly that one. "Release" excludes yanked versions and prereleases: a yanked
version is only installed when named exactly (with a warning), and a prerelease only when
named exactly, as Cargo and npm do, so nobody gets either by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import semver

from ebpf_hub.client.hubindex import check_name
from ebpf_hub.errors import HubError, NothingInstallableError
from ebpf_hub.safetext import clip, quote

_PARTIAL = re.compile(r"(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
_SPEC_FORMS = "MAJOR, MAJOR.MINOR or an exact MAJOR.MINOR.PATCH[-PRERELEASE]"
_LISTED = 12  # versions named in a "not found" error before "and N more"


@dataclass(frozen=True)
class Resolution:
    """The chosen version entry of `packages/<name>.json`, and what the caller must print."""

    version: dict[str, Any]
    warning: str | None = None  # set when the chosen version is yanked


def parse_spec(text: str) -> tuple[str, str | None]:
    """`NAME` or `NAME@SPEC` split into (name, spec or None), both checked."""
    name, at, spec = text.partition("@")
    check_name(name)
    if at and not spec:
        raise HubError(
            f"{quote(text)}: nothing after '@'", hint=f"write NAME@VERSION, e.g. {name}@1.2"
        )
    if spec:
        _check_spec(spec)
    return name, spec or None


def resolve(package: dict[str, Any], spec: str | None) -> Resolution:
    """The version of `package` (a `packages/<name>.json` entry) that `spec` selects."""
    name = package["name"]
    versions = [(_parse_version(name, v["version"]), v) for v in package["versions"]]
    if spec is not None and not _PARTIAL.fullmatch(spec):
        _check_spec(spec)
        for _, entry in versions:
            if entry["version"] == spec:
                return Resolution(entry, _yank_warning(name, entry))
        raise NothingInstallableError(
            f"{name} has no version {clip(spec)}", hint=f"available: {_available(versions)}"
        )
    releases = [
        (parsed, entry)
        for parsed, entry in versions
        if entry["yanked"] is None and parsed.prerelease is None and _in_line(parsed, spec)
    ]
    if releases:
        return Resolution(max(releases, key=lambda pair: pair[0])[1])
    if spec is None:
        raise NothingInstallableError(
            f"{name} has no release to install by default (every version is yanked or a "
            "prerelease)",
            hint=f"name one exactly, e.g. {name}@VERSION; available: {_available(versions)}",
        )
    raise NothingInstallableError(
        f"{name} has no release matching {clip(spec)}", hint=f"available: {_available(versions)}"
    )


def _check_spec(spec: str) -> None:
    if _PARTIAL.fullmatch(spec):
        return
    hint = f"drop the 'v' ({clip(spec[1:])})" if spec[:1] in "vV" and len(spec) > 1 else None
    if not semver.Version.is_valid(spec):
        raise HubError(f"version {quote(spec)} is not {_SPEC_FORMS}", hint=hint)


def _parse_version(name: str, version: str) -> semver.Version:
    try:
        return semver.Version.parse(version)
    except ValueError:
        raise HubError(
            f"{name}: the hub lists version {quote(version)}, which is not a semantic version",
            hint="report it to the hub",
        ) from None


def _in_line(version: semver.Version, spec: str | None) -> bool:
    """Whether `version` belongs to the line `spec` (`1` or `1.2`) names; no spec: any line."""
    if spec is None:
        return True
    major, _, minor = spec.partition(".")
    return version.major == int(major) and (not minor or version.minor == int(minor))


def _yank_warning(name: str, entry: dict[str, Any]) -> str | None:
    if entry["yanked"] is None:
        return None
    return (
        f"{name} {entry['version']} is yanked ({entry['yanked']}); "
        "installing it only because it was named exactly"
    )


def _available(versions: list[tuple[semver.Version, dict[str, Any]]]) -> str:
    """The versions, newest first, yanked ones marked; long lists are cut short."""
    ordered = sorted(versions, key=lambda pair: pair[0], reverse=True)
    shown = [e["version"] + (" (yanked)" if e["yanked"] is not None else "") for _, e in ordered]
    rest = len(shown) - _LISTED
    return ", ".join(shown[:_LISTED]) + (f", and {rest} more" if rest > 0 else "")
