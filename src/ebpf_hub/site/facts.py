"""What a package is at a glance, derived once from its metadata and its ledger entries.

The package page's facts sidebar and the `/packages/` list (its rows and facets) show the same
facts, so they are computed here, once per package, as typed data; each view only formats them.

"Updated N days ago" must not change from one build of the same inputs to the next, so it is
counted to the build's date: `SOURCE_DATE_EPOCH` when the build sets it (the reproducible-builds
convention), else the newest release date in the whole hub.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ebpf_hub.bpfobj.capabilities import declared_dangers, declared_hooks
from ebpf_hub.errors import HubError
from ebpf_hub.model.index import Published
from ebpf_hub.model.matrix import KernelVerdict, Verdict
from ebpf_hub.model.package import Maintainer, Package

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
# Ledger entries of one package, by version.
PublishedVersions = Mapping[str, Published]


@dataclass(frozen=True)
class BuildDate:
    """The day "N days ago" counts to, and where it came from (shown on the pages)."""

    day: datetime.date
    source: str  # "SOURCE_DATE_EPOCH" or "the newest release in the hub"

    @property
    def phrase(self) -> str:
        """What ages are counted to, for a page to say."""
        return f"{self.day.isoformat()} ({self.source})"

    @classmethod
    def of(cls, packages: Sequence[Package]) -> BuildDate:
        """`SOURCE_DATE_EPOCH` when set, else the newest release date among `packages`."""
        epoch = os.environ.get(SOURCE_DATE_EPOCH)
        if epoch is not None:
            if not epoch.isdigit():
                raise HubError(
                    f"{SOURCE_DATE_EPOCH}={epoch!r} is not a count of seconds since 1970",
                    hint="set it to an integer (git log -1 --format=%ct) or unset it",
                )
            moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
            return cls(moment.date(), SOURCE_DATE_EPOCH)
        dates = [day for p in packages for v in p.versions if (day := _day(v.created))]
        return cls(max(dates, default=datetime.date(1970, 1, 1)), "the newest release in the hub")


@dataclass(frozen=True)
class PackageFacts:
    """One package's facts, as the sidebar and the list show and filter them."""

    name: str
    summary: str
    latest: str | None  # None when every version is yanked
    released: str  # the newest version's date, YYYY-MM-DD
    # From `released` to the build date (0 when released later; None for a date that is not
    # one, which only metadata that skipped validation has).
    days_ago: int | None
    as_of: BuildDate  # the build date `days_ago` counts to
    size: int | None  # bytes of the latest version's artifact, once published
    license: str
    architectures: tuple[str, ...]
    capabilities: tuple[str, ...]
    kernel: str | None
    tested: tuple[str, ...]  # kernels (ARCH/NAME) the latest version passed the matrix on
    hooks: tuple[str, ...]
    modifies: bool  # attaches to a hook, or calls a helper or kfunc, that changes the system
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    maintainers: tuple[Maintainer, ...]
    source_url: str | None  # a git repository, or None for an in-repo source
    source_path: str | None

    @classmethod
    def of(
        cls,
        package: Package,
        published: PublishedVersions,
        built: BuildDate,
        matrix: Mapping[str, tuple[KernelVerdict, ...]] | None = None,
    ) -> PackageFacts:
        """The facts of `package`; `matrix`: its kernel verdicts by version, if tested."""
        latest = package.latest
        newest = package.versions[-1]
        entry = published.get(latest.version) if latest else None
        released = _day(newest.created)
        permissions = package.permissions
        return cls(
            name=package.name,
            summary=package.summary,
            latest=latest.version if latest else None,
            released=newest.created,
            days_ago=max(0, (built.day - released).days) if released else None,
            as_of=built,
            size=entry.size if entry else None,
            license=package.license,
            architectures=package.requires.architectures,
            capabilities=package.requires.capabilities or (),
            kernel=package.requires.kernel,
            tested=tuple(
                v.label
                for v in (matrix or {}).get(latest.version if latest else "", ())
                if v.status is Verdict.PASS
            ),
            hooks=permissions.attach,
            modifies=bool(declared_hooks(permissions) or declared_dangers(permissions)),
            categories=package.categories,
            keywords=package.keywords,
            maintainers=package.maintainers,
            source_url=package.source.git,
            source_path=package.source.path,
        )

    @property
    def effect(self) -> str:
        """The observes-only facet, in words."""
        return "modifies" if self.modifies else "observes only"


def days_phrase(days: int | None) -> str:
    """`days` as "today", "1 day ago" or "N days ago" ("at an unknown date" for None)."""
    if days is None:
        return "at an unknown date"
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def size_phrase(size: int) -> str:
    """A byte count for people: 20.0 KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def _day(text: str) -> datetime.date | None:
    """A version's `created` date (the schema's YYYY-MM-DD), or None if it is not one."""
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None
