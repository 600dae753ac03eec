"""What a change does to the index compared with a base git ref (the pull request's target).

Published versions are immutable: against the base, no package file or version may disappear,
and a version's fields may not change, except `yanked`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.gitutil import commit_of, git
from ebpf_hub.index.config import PACKAGES_DIR
from ebpf_hub.index.document import Document, DocumentError, parse_document
from ebpf_hub.index.problems import Problem

MUTABLE_VERSION_FIELDS = frozenset({"yanked"})


@dataclass
class Changes:
    """Package names touched since the base, by their file or by their in-repo sources."""

    changed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


def resolve_base(root: Path, base: str) -> str:
    """The commit `base` names, or a clear error when it names none."""
    commit = commit_of(root, base)
    if commit is None:
        raise HubError(f"--base {base}: no such git ref in {root}; fetch it first")
    return commit


def changes_since(root: Path, base: str) -> Changes:
    """Packages whose file or `sources/<name>/` differ between `base` and the working tree."""
    commit = resolve_base(root, base)
    diff = git(
        root,
        "diff",
        "--name-status",
        "--no-renames",
        "-z",
        commit,
        "--",
        str(PACKAGES_DIR),
        "sources",
    )
    untracked = git(
        root, "ls-files", "--others", "--exclude-standard", "-z", "--", str(PACKAGES_DIR), "sources"
    )
    entries = diff.decode().split("\0")
    pairs = list(zip(entries[0::2], entries[1::2]))
    pairs += [("A", path) for path in untracked.decode().split("\0") if path]
    changes = Changes()
    for status, path in pairs:
        parts = Path(path).parts
        if parts[:2] == PACKAGES_DIR.parts and len(parts) == 3 and path.endswith(".yaml"):
            name = Path(path).stem
            (changes.removed if status == "D" else changes.changed).add(name)
        elif parts[:1] == ("sources",) and len(parts) > 2:
            changes.changed.add(parts[1])
    changes.changed -= changes.removed
    return changes


def base_document(root: Path, base: str, name: str) -> Document | None:
    """The package file as it was at `base`, or None when it did not exist (or was unreadable)."""
    relpath = (PACKAGES_DIR / f"{name}.yaml").as_posix()
    try:
        raw = git(root, "show", f"{resolve_base(root, base)}:{relpath}")
    except HubError:
        return None
    try:
        return parse_document(raw, f"{base}:{relpath}")
    except DocumentError:
        return None


def removal_problem(name: str) -> Problem:
    return Problem(
        (PACKAGES_DIR / f"{name}.yaml").as_posix(),
        1,
        "(file)",
        f"package {name!r} was published and cannot be removed",
        "restore the file; yank its versions instead (yanked: REASON)",
    )


def orphan_sources_problem(name: str) -> Problem:
    return Problem(
        f"sources/{name}",
        1,
        "(file)",
        f"sources/{name} changed but index/packages/{name}.yaml does not exist",
        "add the package file, or keep these sources out of sources/",
    )


def immutability_problems(before: Document, after: Document) -> Iterator[Problem]:
    """Published versions (those in `before`) must survive unchanged in `after`."""
    now = {
        v.get("version"): (i, v)
        for i, v in enumerate(after.data.get("versions", []))
        if isinstance(v, dict)
    }
    for old in before.data.get("versions", []):
        if not isinstance(old, dict):
            continue
        version = old.get("version")
        if version not in now:
            yield after.problem(
                ("versions",),
                f"published version {version} was removed",
                "restore it; to withdraw it add yanked: REASON",
            )
            continue
        index, new = now[version]
        for key in sorted((set(old) | set(new)) - MUTABLE_VERSION_FIELDS):
            if old.get(key) != new.get(key):
                yield after.problem(
                    ("versions", index, key),
                    f"published version {version} cannot change {key!r}",
                    "versions are immutable; add a new version instead",
                )
