"""The package metadata as typed objects, built from a file that passed the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ebpf_hub.bpfobj.kinds import hook_kind


def attach_kind(section: str) -> str | None:
    """The kind of hook (``permissions.attach``) a program in `section` attaches to, or None
    when no package may ship such a section; one table decides (`ebpf_hub.bpfobj.kinds`)."""
    kind = hook_kind(section)
    return kind.name if kind else None


@dataclass(frozen=True)
class Program:
    name: str
    section: str
    description: str = ""

    @property
    def attach(self) -> str | None:
        return attach_kind(self.section)


@dataclass(frozen=True)
class Version:
    version: str
    created: str
    changes: str
    commit: str | None = None
    tree: str | None = None
    yanked: str | None = None

    @property
    def pin(self) -> str | None:
        """What fixes this version's source: a git commit or a directory hash."""
        return self.commit or self.tree


@dataclass(frozen=True)
class Package:
    """One index entry; `raw` keeps the file's data for lossless JSON output."""

    name: str
    summary: str
    license: str
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    source: dict[str, str]
    programs: tuple[Program, ...]
    versions: tuple[Version, ...]
    raw: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Package:
        return cls(
            name=data["name"],
            summary=data["summary"],
            license=data["license"],
            categories=tuple(data["categories"]),
            keywords=tuple(data.get("keywords", ())),
            source=dict(data["source"]),
            programs=tuple(Program(**p) for p in data["programs"]),
            versions=tuple(Version(**v) for v in data["versions"]),
            raw=data,
        )

    @property
    def latest(self) -> Version | None:
        """The newest version that is not yanked (what `install NAME` picks)."""
        for version in reversed(self.versions):
            if version.yanked is None:
                return version
        return None
