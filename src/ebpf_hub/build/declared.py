"""Declared vs. actual: the compiled object may hold nothing the package metadata hides.

Users read a package's programs, hooks and dangerous calls (helpers and kfuncs) before they
run it; the build makes sure those declarations are the truth by reading the object itself.
A dangerous call is reported where a program reaches it, and also when only a function no
program calls makes it: libbpf still loads an exception callback, named only in BTF. The
kind of hook is checked as a call is (`ebpf_hub.bpfobj.kinds`): an `fmod_ret` program is not
an `fexit` one, and a program whose return value is a packet verdict needs `drops_packets`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ebpf_hub.bpfobj.capabilities import Danger, dangers, undeclared
from ebpf_hub.bpfobj.eventtype import event_map
from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.kinds import hook_kind
from ebpf_hub.build.filtercheck import filter_problems
from ebpf_hub.build.formatcheck import format_mismatches
from ebpf_hub.build.paramcheck import parameter_mismatches
from ebpf_hub.errors import HubError
from ebpf_hub.model.package import Package, Permissions


class UndeclaredError(HubError):
    """The object does something the package does not declare."""


def mismatches(package: Package, objects: Sequence[tuple[str, ObjectInfo]]) -> Iterator[str]:
    """Every difference between the metadata and the compiled objects, one sentence each."""
    declared = {p.name: p.section for p in package.programs}
    permissions = package.permissions
    found: set[str] = set()
    for file, info in objects:
        reported: set[str] = set()
        for program in info.programs:
            found.add(program.name)
            where = f"{file}: program {program.name!r} (section {program.section})"
            if program.name not in declared:
                yield f"{where} is not declared in programs:"
            elif declared[program.name] != program.section:
                yield f"{where} is declared with section {declared[program.name]!r}"
            yield from _undeclared_hook(where, program.section, permissions)
            for danger in undeclared(dangers(program.helpers, program.kfuncs), permissions):
                reported.add(danger.name)
                yield _undeclared_call(where, danger)
        for danger in undeclared(dangers(info.helpers, info.kfuncs), permissions):
            if danger.name not in reported:
                outside = "a function outside every program's calls (an exception callback?)"
                yield _undeclared_call(f"{file}: {outside}", danger)
    for name in sorted(set(declared) - found):
        yield f"program {name!r} is declared but no object holds it"
    yield from parameter_mismatches(package.parameter_decls, objects)
    yield from format_mismatches(package.output, objects)
    yield from filter_problems(package.choices.filters, objects)
    events = package.output is not None and package.output.events
    if events and not any(event_map(info.maps) for _, info in objects):
        yield (
            "output.events is declared but no object has an `events` map "
            "(a ring buffer or a perf event array)"
        )


def _undeclared_hook(where: str, section: str, permissions: Permissions) -> Iterator[str]:
    """What the metadata fails to say about the kind of hook a program in ``section`` is."""
    kind = hook_kind(section)
    if kind is None:
        yield f"{where} is not a kind of program a package may ship"
        return
    does = f": it {kind.effect}" if kind.effect else ""
    if kind.name not in permissions.attach:
        yield f"{where} attaches to {kind.name}, which permissions.attach does not list{does}"
    if kind.drops_packets and not permissions.drops_packets:
        yield f"{where} attaches to {kind.name}, which drops_packets does not declare{does}"


def _undeclared_call(where: str, danger: Danger) -> str:
    return (
        f"{where} calls {danger.name}, which permissions.{danger.permission} does not "
        f"declare: it {danger.effect}"
    )


def check_declarations(
    package: Package, label: str, objects: Sequence[tuple[str, ObjectInfo]], metadata: Path
) -> None:
    """Raise UndeclaredError listing every mismatch, so one build shows them all; `metadata`
    is the file that declares them (an index entry, a package directory's manifest)."""
    problems = list(mismatches(package, objects))
    if problems:
        raise UndeclaredError(
            f"{label}: the object does not match the package metadata: {'; '.join(problems)} "
            f"(declare it in {metadata}, or remove it from the code)"
        )
