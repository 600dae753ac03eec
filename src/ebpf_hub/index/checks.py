"""Semantic checks: what the schema cannot say about a package file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import semver
from license_expression import ExpressionError, get_spdx_licensing

from ebpf_hub.bpfobj.kinds import HOOK_KINDS
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HubConfig
from ebpf_hub.index.document import Document
from ebpf_hub.index.problems import Path_, Problem
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.model.package import Output, Package, attach_kind
from ebpf_hub.safetext import UNSAFE, visible

# A release date may be at most this far ahead of the validating machine's clock (time zones).
_DATE_SLACK = dt.timedelta(days=1)
# Markdown spans lines and may indent with tabs: the one field where those two are text.
_MULTILINE: Mapping[Path_, str] = {("description",): "\n\t"}


def package_problems(
    document: Document, package: Package, config: HubConfig, stem: str
) -> list[Problem]:
    """Every semantic problem of one schema-valid package file named `stem`.yaml."""
    checks = (
        _identity(document, package, config, stem),
        _license(document, package),
        _categories(document, package, config),
        _programs(document, package),
        mode_problems(document, package),
        _versions(document, package),
        _source(document, package, config),
    )
    return [problem for check in checks for problem in check]


def text_problems(document: Document) -> list[Problem]:
    """Control, bidi-override and invisible characters in any text of the file, schema-valid
    or not. Terminals obey them when `info`, `search` or `run` print the text, where they can
    hide or reorder the permissions a user is asked to accept (see ebpf_hub.safetext)."""
    problems = []
    for path, text in _unsafe_texts(document.data, ()):
        allowed = _MULTILINE.get(path, "")
        found = sorted({char for char in UNSAFE.findall(text) if char not in allowed})
        if found:
            problems.append(
                document.problem(
                    path,
                    f"contains control or invisible characters: {' '.join(map(visible, found))}",
                    "remove them; text is printed on terminals, which obey them"
                    + ("; line breaks and tabs are allowed here" if allowed else ""),
                )
            )
    return problems


def _unsafe_texts(value: dict[str, Any] | list[Any], path: Path_) -> Iterator[tuple[Path_, str]]:
    """Every string within a loaded mapping or list (at `path`) that holds a character UNSAFE
    matches, with where it is. Strings are tested where they are met and a path is made only
    for a hit: a generator and a path per string cost 0.2 s more at 10,000 files, where few
    strings hold one (a description's line breaks, which `text_problems` then allows)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, str):
            if UNSAFE.search(item):
                yield (*path, key), item
        elif isinstance(item, (dict, list)):
            yield from _unsafe_texts(item, (*path, key))


def _identity(doc: Document, package: Package, config: HubConfig, stem: str) -> Iterator[Problem]:
    if package.name != stem:
        yield doc.problem(
            ("name",),
            f"name {package.name!r} differs from the file name {stem!r}",
            f"rename the file to {package.name}.yaml or set name: {stem}",
        )
    if package.name in config.reserved_names:
        yield doc.problem(("name",), f"{package.name!r} is a reserved name", "choose another name")


@cache
def _license_error(expression: str) -> str | None:
    try:
        info = get_spdx_licensing().validate(expression, strict=True)
    except ExpressionError as exc:
        return str(exc)
    if info.errors:
        return "; ".join(info.errors)
    return None


def _license(doc: Document, package: Package) -> Iterator[Problem]:
    error = _license_error(package.license)
    if error:
        yield doc.problem(
            ("license",),
            f"not a valid SPDX expression: {error}",
            "use SPDX identifiers, e.g. GPL-2.0-only or (LGPL-2.1-only OR BSD-2-Clause)",
        )


def _categories(doc: Document, package: Package, config: HubConfig) -> Iterator[Problem]:
    for i, category in enumerate(package.categories):
        if category not in config.categories:
            yield doc.problem(
                ("categories", i),
                f"unknown category {category!r}",
                f"one of: {', '.join(sorted(config.categories))}",
            )


def _programs(doc: Document, package: Package) -> Iterator[Problem]:
    declared = set(package.permissions.attach)
    seen: set[str] = set()
    for i, program in enumerate(package.programs):
        if program.name in seen:
            yield doc.problem(
                ("programs", i, "name"),
                f"program {program.name!r} listed twice",
                "list each program once",
            )
        seen.add(program.name)
        kind = attach_kind(program.section)
        if kind is None:
            yield doc.problem(
                ("programs", i, "section"),
                f"unknown section {program.section!r}: not a kind of program a package may ship",
                f"use a libbpf section of one of: {', '.join(HOOK_KINDS)}",
            )
        elif kind not in declared:
            yield doc.problem(
                ("permissions", "attach"),
                f"program {program.name!r} attaches to {kind}, "
                "which permissions.attach does not list",
                f"add {kind} to permissions.attach",
            )
    yield from _verdicts(doc, package)
    maps = [entry.map for entry in (package.output or Output()).output_maps]
    for i, name in enumerate(maps):
        if maps.index(name) != i:
            yield doc.problem(
                ("output", "maps", i, "map"), f"map {name!r} listed twice", "list each map once"
            )


def mode_problems(doc: Document, package: Package) -> Iterator[Problem]:
    """Each mode names declared programs, and exactly one is the default (`run` attaches it
    without --mode)."""
    declared = {program.name for program in package.programs}
    modes = package.choices.modes
    for mode in modes:
        for i, name in enumerate(mode.programs):
            if name not in declared:
                yield doc.problem(
                    ("modes", mode.name, "programs", i),
                    f"mode {mode.name!r} names program {name!r}, which programs: does not list",
                    "name a program listed under programs:",
                )
    defaults = [mode.name for mode in modes if mode.default]
    if modes and len(defaults) != 1:
        which = ", ".join(defaults) if defaults else "none"
        yield doc.problem(
            ("modes",),
            f"exactly one mode must have `default: true` (found: {which})",
            "mark the mode `run` should attach without --mode with `default: true`",
        )


def _verdicts(doc: Document, package: Package) -> Iterator[Problem]:
    """A kind of hook whose return value decides the fate of packets needs drops_packets:
    the hub cannot tell from the code that a program always lets them pass."""
    permissions = package.permissions
    if permissions.drops_packets:
        return
    for name in permissions.attach:
        kind = HOOK_KINDS[name]
        if kind.drops_packets:
            yield doc.problem(
                ("permissions", "drops_packets"),
                f"a program attached to {name} {kind.effect}, which drops_packets does not declare",
                "set drops_packets: true",
            )


def _versions(doc: Document, package: Package) -> Iterator[Problem]:
    previous: semver.Version | None = None
    previous_date = ""
    seen: set[str] = set()
    latest_allowed = (dt.datetime.now(dt.timezone.utc) + _DATE_SLACK).date().isoformat()
    for i, version in enumerate(package.versions):
        where = ("versions", i)
        if version.version in seen:
            yield doc.problem(
                (*where, "version"),
                f"version {version.version} listed twice",
                "each version appears once; bump the new one",
            )
        seen.add(version.version)
        try:
            parsed = semver.Version.parse(version.version)
        except ValueError:
            yield doc.problem(
                (*where, "version"),
                f"{version.version!r} is not a semantic version",
                "write MAJOR.MINOR.PATCH, e.g. 1.0.0",
            )
            continue
        if parsed.build:
            yield doc.problem(
                (*where, "version"), "build metadata (+...) is not allowed", "drop the +... suffix"
            )
        if previous is not None and parsed <= previous:
            yield doc.problem(
                (*where, "version"),
                f"{version.version} is not newer than {previous}",
                "list versions oldest first; a new version goes at the end",
            )
        previous = parsed
        yield from _date(doc, (*where, "created"), version.created, previous_date, latest_allowed)
        previous_date = version.created


def _date(
    doc: Document, where: tuple[str | int, ...], value: str, previous: str, latest: str
) -> Iterator[Problem]:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        yield doc.problem(where, f"{value!r} is not a real date", "write YYYY-MM-DD")
        return
    if value > latest:
        yield doc.problem(where, f"{value} is in the future", "use the release date")
    if previous and value < previous:
        yield doc.problem(
            where,
            f"{value} is older than the previous version's {previous}",
            "versions are listed oldest first",
        )


def _source(doc: Document, package: Package, config: HubConfig) -> Iterator[Problem]:
    path = package.source.path
    pin_field, other = ("tree", "commit") if path else ("commit", "tree")
    for i, version in enumerate(package.versions):
        if getattr(version, pin_field) is None:
            yield doc.problem(
                ("versions", i),
                f"missing {pin_field!r}",
                "pin in-repo sources with tree: (ebpf-hub hash DIR)"
                if path
                else "pin git sources with the full 40-hex commit",
            )
        if getattr(version, other) is not None:
            yield doc.problem(
                ("versions", i, other),
                f"{other!r} does not apply to this source",
                f"use {pin_field!r}",
            )
    if path is None:
        return
    if path != f"sources/{package.name}":
        yield doc.problem(
            ("source", "path"),
            f"in-repo sources live in sources/{package.name}",
            f"set path: sources/{package.name}",
        )
        return
    yield from _tree_matches(doc, package, config.root / path)


def _tree_matches(doc: Document, package: Package, directory: Path) -> Iterator[Problem]:
    """The newest version must pin what is in the directory now.

    Older versions were built when they were newest; their hashes stay as history.
    """
    newest = len(package.versions) - 1
    pinned = package.versions[newest].tree
    try:
        actual = tree_hash(directory)
    except HubError as exc:
        yield doc.problem(("source", "path"), str(exc), "add the sources or fix the path")
        return
    if pinned is not None and pinned != actual:
        version = package.versions[newest].version
        yield doc.problem(
            ("versions", newest, "tree"),
            f"sources/{package.name} does not match the pinned hash of {version}",
            f"if the sources changed, add a new version with tree: {actual}",
        )


def hyphenless_names(names: Iterable[str]) -> dict[str, set[str]]:
    """Package names by their form without hyphens, which `confusable_problems` compares."""
    owners: dict[str, set[str]] = {}
    for name in names:
        owners.setdefault(name.replace("-", ""), set()).add(name)
    return owners


def confusable_problems(
    document: Document, name: str, owners: Mapping[str, set[str]]
) -> list[Problem]:
    """A name that differs from another package's only by hyphens (`foo-bar` vs `foobar`);
    `owners` is `hyphenless_names` of every package."""
    others = owners.get(name.replace("-", ""), set()) - {name}
    if not others:
        return []
    return [
        document.problem(
            ("name",),
            f"{name!r} is too close to existing package {min(others)!r}",
            "names must differ by more than hyphens; choose another name",
        )
    ]
