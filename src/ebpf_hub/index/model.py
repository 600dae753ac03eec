"""The package metadata as typed objects, built from a file that passed the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ATTACH_KINDS: dict[str, str] = {
    # First part of an ELF section name (as libbpf reads it) -> hook kind shown to users.
    "tracepoint": "tracepoint",
    "tp": "tracepoint",
    "raw_tracepoint": "raw_tracepoint",
    "raw_tp": "raw_tracepoint",
    "tp_btf": "tp_btf",
    "fentry": "fentry",
    "fexit": "fexit",
    "fmod_ret": "fexit",
    "kprobe": "kprobe",
    "kretprobe": "kprobe",
    "ksyscall": "kprobe",
    "kretsyscall": "kprobe",
    "uprobe": "uprobe",
    "uretprobe": "uprobe",
    "usdt": "uprobe",
    "xdp": "xdp",
    "tc": "tc",
    "classifier": "tc",
    "cgroup": "cgroup",
    "cgroup_skb": "cgroup",
    "cgroup_sock": "cgroup",
    "lsm": "lsm",
    "perf_event": "perf_event",
    "socket": "socket",
}


def attach_kind(section: str) -> str | None:
    """The kind of hook a program in `section` attaches to, or None when the section is unknown.

    `uprobe.s/...` (sleepable) and `xdp.frags` name the same kind as their base.
    """
    head = section.split("/", 1)[0].split(".", 1)[0]
    return ATTACH_KINDS.get(head)


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
