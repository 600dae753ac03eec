"""Declared vs. actual: the compiled object may hold nothing the package metadata hides.

Users read a package's programs, hooks and dangerous helpers before they run it; the build
makes sure those declarations are the truth by reading the object itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ebpf_hub.bpfobj import DANGEROUS_HELPERS, ObjectInfo
from ebpf_hub.errors import HubError
from ebpf_hub.index.model import Package, attach_kind


class UndeclaredError(HubError):
    """The object does something the package does not declare."""


def mismatches(package: Package, objects: Sequence[tuple[str, ObjectInfo]]) -> Iterator[str]:
    """Every difference between the metadata and the compiled objects, one sentence each."""
    declared = {p.name: p.section for p in package.programs}
    attach = set(package.raw["permissions"]["attach"])
    helpers = set(package.raw["permissions"].get("helpers", []))
    found: set[str] = set()
    for file, info in objects:
        for program in info.programs:
            found.add(program.name)
            where = f"{file}: program {program.name!r} (section {program.section})"
            if program.name not in declared:
                yield f"{where} is not declared in programs:"
            elif declared[program.name] != program.section:
                yield f"{where} is declared with section {declared[program.name]!r}"
            kind = attach_kind(program.section)
            if kind not in attach:
                yield f"{where} attaches to {kind}, which permissions.attach does not list"
            for helper in sorted(set(program.helpers) & DANGEROUS_HELPERS.keys() - helpers):
                yield f"{where} calls {helper}, which permissions.helpers does not declare"
    for name in sorted(set(declared) - found):
        yield f"program {name!r} is declared but no object holds it"


def check_declarations(
    package: Package, label: str, objects: Sequence[tuple[str, ObjectInfo]]
) -> None:
    """Raise UndeclaredError listing every mismatch, so one build shows them all."""
    problems = list(mismatches(package, objects))
    if problems:
        raise UndeclaredError(
            f"{label}: the object does not match the package metadata: {'; '.join(problems)} "
            f"(declare it in index/packages/{package.name}.yaml, or remove it from the code)"
        )
