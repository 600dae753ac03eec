"""What the `SPEC` of `NAME@SPEC` selects: a line (`1`, `1.2`) or one exact version.

A line selects releases only (no prereleases): `1` is the newest 1.x.y, never 1.3.0-rc.1. An
exact version selects that version, prerelease or not. Whether a yanked version may be chosen
is `ebpf_hub.client.resolve`'s policy, not the spec's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

from ebpf_hub.errors import HubError
from ebpf_hub.safetext import clip, quote

_PARTIAL = re.compile(r"(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
FORMS = "MAJOR, MAJOR.MINOR or an exact MAJOR.MINOR.PATCH[-PRERELEASE]"


@dataclass(frozen=True)
class VersionSpec:
    """A parsed spec: `major` (and `minor`) for a line, else the exact version `text` names."""

    text: str
    major: int | None = None
    minor: int | None = None

    @classmethod
    def parse(cls, text: str) -> VersionSpec:
        """`text` as a spec, or one clear error naming the accepted forms."""
        partial = _PARTIAL.fullmatch(text)
        if partial is not None:
            major, minor = partial.groups()
            return cls(text, int(major), int(minor) if minor is not None else None)
        if not semver.Version.is_valid(text):
            hint = (
                f"drop the 'v' ({clip(text[1:])})" if text[:1] in "vV" and len(text) > 1 else None
            )
            raise HubError(f"version {quote(text)} is not {FORMS}", hint=hint)
        return cls(text)

    @property
    def exact(self) -> bool:
        """Whether the spec names one version (MAJOR.MINOR.PATCH[-PRERELEASE])."""
        return self.major is None

    @property
    def line(self) -> str | None:
        """The line an install keeps to on upgrade (`1`, `1.2`); None for an exact version."""
        return None if self.exact else self.text

    def matches(self, version: str) -> bool:
        """Whether `version` is one this spec selects (no semantic version never is)."""
        if self.exact:
            return version == self.text
        try:
            parsed = semver.Version.parse(version)
        except ValueError:
            return False
        return (
            parsed.prerelease is None
            and parsed.major == self.major
            and (self.minor is None or parsed.minor == self.minor)
        )

    def __str__(self) -> str:
        return self.text
