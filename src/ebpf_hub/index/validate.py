"""`ebpf-hub validate`: the checks a pull request to the index must pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.forked import split_in_two
from ebpf_hub.index import history
from ebpf_hub.index.checks import (
    confusable_problems,
    hyphenless_names,
    package_problems,
    text_problems,
)
from ebpf_hub.index.config import HubConfig
from ebpf_hub.index.document import Document, DocumentError, load_document
from ebpf_hub.index.problems import Problem
from ebpf_hub.index.schema import schema_problems
from ebpf_hub.model.package import Package


@dataclass
class Report:
    """What was checked and what is wrong; `ok` decides the exit status."""

    checked: list[str]
    problems: list[Problem]
    packages: list[Package]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(config: HubConfig, files: Iterable[Path] = (), base: str | None = None) -> Report:
    """Check the given files, the files changed since `base`, or (neither given) the whole index."""
    root = config.root
    package_files = sorted(config.packages_dir.glob("*.yaml"))
    problems: list[Problem] = (
        [
            Problem(
                _display(root, p),
                1,
                "(file)",
                "package files must end in .yaml",
                f"rename it to {p.stem}.yaml",
            )
            for p in config.packages_dir.iterdir()
            if p.suffix != ".yaml"
        ]
        if config.packages_dir.is_dir()
        else []
    )
    if base is not None:
        changes = history.changes_since(root, base)
        problems += [history.removal_problem(name) for name in sorted(changes.removed)]
        targets = [config.packages_dir / f"{name}.yaml" for name in sorted(changes.changed)]
        problems += [history.orphan_sources_problem(t.stem) for t in targets if not t.exists()]
        targets = [t for t in targets if t.exists()]
    else:
        targets = sorted(Path(f) for f in files) or package_files
    owners = hyphenless_names(p.stem for p in package_files)
    checked = [_display(root, t) for t in targets]

    def check(files: Sequence[tuple[Path, str]]) -> list[tuple[list[Problem], Package | None]]:
        return [_check(config, path, name, owners, base) for path, name in files]

    # A large index is checked on two cores: each file is checked on its own.
    results = split_in_two(check, list(zip(targets, checked)), "validating")
    packages = [package for _, package in results if package is not None]
    problems += [problem for found, _ in results for problem in found]
    return Report(checked, sorted(set(problems)), packages)


def _check(
    config: HubConfig,
    path: Path,
    name: str,
    owners: Mapping[str, set[str]],
    base: str | None,
) -> tuple[list[Problem], Package | None]:
    """The problems of one file (named `name`), and its package if it has none. Only the
    Package is kept, never the Document: keeping every Document as well cost the garbage
    collector a second more at 10,000 files."""
    document, package, problems = _check_file(config, path, name)
    if document is None:
        return problems, None
    kept = package if not problems else None
    if kept is not None:
        problems += confusable_problems(document, kept.name, owners)
    if base is not None:
        before = history.base_document(config.root, base, path.stem)
        if before is not None:
            problems += history.immutability_problems(before, document)
    return problems, kept


def _check_file(
    config: HubConfig, path: Path, name: str
) -> tuple[Document | None, Package | None, list[Problem]]:
    """The file's document (named `name` in problems), its package once the schema accepts
    it, and its problems."""
    try:
        document = load_document(path, name)
    except DocumentError as exc:
        return None, None, [exc.problem]
    problems = schema_problems(document) + text_problems(document)
    if problems:
        return document, None, problems
    package = Package.from_json(document.data)
    return document, package, package_problems(document, package, config, path.stem)


def _display(root: Path, path: Path) -> str:
    """`path` as the user knows it: relative to the hub checkout when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return str(path)
