"""Which versions a publish run must build: those a range of commits added or changed.

Cost grows with the change, not with the hub: only package files that differ between the two
commits are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.gitutil import commit_of, git_text
from ebpf_hub.index import history
from ebpf_hub.index.config import PACKAGES_DIR, HubConfig
from ebpf_hub.index.validate import validate
from ebpf_hub.model.package import Package, Version

EMPTY_COMMIT = "0" * 40  # what GitHub sends as `before` for the first push of a branch


@dataclass(frozen=True)
class Target:
    """One version to publish."""

    package: Package
    version: Version

    @property
    def label(self) -> str:
        return f"{self.package.name}@{self.version.version}"


def parse_range(text: str) -> tuple[str | None, str]:
    """`BASE..HEAD` -> (BASE, HEAD); a BASE of all zeros (first push) means "everything"."""
    base, sep, head = text.partition("..")
    if not sep or not head:
        raise HubError(f"--changed {text}: expected BASE..HEAD, e.g. origin/main..HEAD")
    return (None if not base or base == EMPTY_COMMIT else base), head


def _check_head_is_checked_out(root: Path, head: str) -> None:
    """Packages are read from the working tree, so it must be the commit being published."""

    wanted = commit_of(root, head)
    if wanted is None:
        raise HubError(f"{head}: no such git ref in {root}")
    if wanted != commit_of(root, "HEAD"):
        raise HubError(f"{head} is not the checked-out commit; check it out before publishing it")


def select_targets(config: HubConfig, changed: str | None) -> list[Target]:
    """Every version (changed None), or the versions new or different in BASE..HEAD."""
    if changed is None:
        return _valid_targets(config, [], lambda _name, _v: True)
    base, head = parse_range(changed)
    _check_head_is_checked_out(config.root, head)
    if base is None:
        return _valid_targets(config, [], lambda _name, _v: True)
    history.resolve_base(config.root, base)
    diff = git_text(
        config.root, "diff", "--name-only", "--no-renames", base, head, "--", str(PACKAGES_DIR)
    ).split()
    names = [Path(p).stem for p in diff if p.endswith(".yaml") and (config.root / p).exists()]
    before = {name: history.base_document(config.root, base, name) for name in names}
    files = [config.packages_dir / f"{name}.yaml" for name in names]

    def is_new(name: str, version: Version) -> bool:
        old = before[name]
        published = {v.get("version"): v for v in old.data.get("versions", [])} if old else {}
        previous = published.get(version.version)
        return previous is None or _version_dict(version) != previous

    return _valid_targets(config, files, is_new) if files else []


def package_targets(config: HubConfig, name: str) -> list[Target]:
    """Every unyanked version of one package, validating only that package's file."""
    path = config.packages_dir / f"{name}.yaml"
    if not path.is_file():
        raise HubError(f"{name}: no such package in {PACKAGES_DIR}")
    return _valid_targets(config, [path], lambda _name, _v: True)


def _version_dict(version: Version) -> dict[str, str]:
    fields = ("version", "created", "changes", "commit", "tree", "yanked")
    return {key: value for key in fields if (value := getattr(version, key)) is not None}


def _valid_targets(
    config: HubConfig, files: list[Path], wanted: Callable[[str, Version], bool]
) -> list[Target]:
    report = validate(config, files=files)
    if not report.ok:
        raise HubError(
            f"the index has {len(report.problems)} problem(s), first: "
            f"{report.problems[0]}; run ebpf-hub validate and fix them first"
        )
    return [
        Target(package, version)
        for package in report.packages
        for version in package.versions
        if version.yanked is None and wanted(package.name, version)
    ]
