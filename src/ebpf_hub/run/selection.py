"""Which programs one run loads: the chosen mode's, minus optional ones whose hook is missing.

A program left out is not even loaded (libbpf autoload off): another mode's programs would
print the same events twice, and a program whose tracepoint this kernel lacks would fail the
load. Leaving out is decided before the kernel is touched, from the package's declarations
(ebpf_hub.model.modes) and the host, so preflight checks only what will run.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.programs import ProgramInfo
from ebpf_hub.errors import HubError
from ebpf_hub.model.modes import Choices, Mode
from ebpf_hub.run import host

# Hooks found in the kernel's BTF: the type a kind's target names (preflight has the same).
_BTF_HOOKS: Final = {
    "tp_btf": ("typedef", "btf_trace_"),
    "fentry": ("func", ""),
    "fexit": ("func", ""),
    "fmod_ret": ("func", ""),
}
_UPROBES: Final = frozenset({"uprobe", "uretprobe", "uprobe.s", "uretprobe.s"})


@dataclass(frozen=True)
class Selection:
    """The mode a run attaches (None: the package has none), the programs it leaves out
    (not loaded), and one note for each optional program skipped here."""

    mode: Mode | None
    skipped: frozenset[str]
    notes: tuple[str, ...]


def select_programs(
    label: str, choices: Choices, objects: Sequence[ObjectInfo], requested: str | None
) -> Selection:
    """The programs of `objects` that run in mode `requested` (the default mode if None)."""
    mode = choose_mode(label, choices, requested)
    unselected = choices.unselected(mode)
    missing = missing_optional(choices, objects, unselected)
    skipped = unselected | set(missing)
    if all(p.name in skipped for info in objects for p in info.programs):
        in_mode = f" in mode {mode.name}" if mode else ""
        raise HubError(
            f"{label}: nothing to attach{in_mode}: every program's hook is missing on this kernel",
            hint="run it on a kernel that has them"
            + (", or choose another --mode" if mode else ""),
        )
    return Selection(mode, frozenset(skipped), tuple(missing.values()))


def missing_optional(
    choices: Choices, objects: Sequence[ObjectInfo], leave_out: Set[str] = frozenset()
) -> dict[str, str]:
    """The optional programs of `objects` (those in `leave_out` aside) whose hook is missing
    on this host, each with the note that says so."""
    notes = {}
    for info in objects:
        for program in info.programs:
            if program.name in leave_out or program.name not in choices.optional:
                continue
            missing = missing_hook(program)
            if missing is not None:
                notes[program.name] = (
                    f"skipped optional program {program.name!r} ({program.section}): {missing}"
                )
    return notes


def choose_mode(label: str, choices: Choices, requested: str | None) -> Mode | None:
    """The mode `requested` names, else the default one; None for a package without modes."""
    if requested is None:
        return choices.default_mode
    names = ", ".join(mode.name for mode in choices.modes)
    if not choices.modes:
        raise HubError(f"{label} declares no modes: --mode {requested} does not apply to it")
    mode = choices.mode(requested)
    if mode is None:
        raise HubError(f"{label} has no mode {requested!r}; its modes: {names}")
    return mode


def missing_hook(program: ProgramInfo) -> str | None:
    """Why `program`'s hook does not exist on this host, or None when it does (or when only
    the attach itself can tell)."""
    kind, target = program.kind or "", program.target or ""
    if kind == "tracepoint" and host.tracefs_ready():
        category, _, name = target.partition("/")
        if not host.tracepoint_exists(category, name):
            return "this kernel has no such tracepoint"
    elif kind.removesuffix(".s") in _BTF_HOOKS:
        from ebpf_hub.run import probes

        btf_kind, prefix = _BTF_HOOKS[kind.removesuffix(".s")]
        if probes.vmlinux_type_id(prefix + target, btf_kind) is None:
            return f"the kernel's BTF has no {btf_kind} {prefix + target}"
    elif kind in _UPROBES:
        binary = target.rpartition(":")[0]
        if binary.startswith("/") and not Path(binary).is_file():
            return f"{binary} is not installed"
    return None
