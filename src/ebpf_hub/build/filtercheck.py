"""Declared filters vs. the object: each `filters:` entry must name a global or map the
objects have, of a type the run can fill (see ebpf_hub.run.filters for the run side).

The build refuses a package whose `--pid` would write a `char[16]`, or whose `--cgroup`
names a map that is not a cgroup array, before it is published: at run time the option
would filter nothing, or fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.params import type_name
from ebpf_hub.model.modes import Filter

CGROUP_ARRAY: Final = "cgroup_array"
_INTEGERS: Final = frozenset({"int", "uint"})
# What each option's global must be: a check of its layout kind, and the words for the fix.
_GLOBAL_KINDS: Final = {
    "pid": (_INTEGERS, "an integer (pid_t, int, __u32)"),
    "tid": (_INTEGERS, "an integer (pid_t, int, __u32)"),
    "uid": (_INTEGERS, "an integer (uid_t, __u32)"),
    "comm": (frozenset({"string"}), "a char array (char targ_comm[16])"),
    "cgroup": (_INTEGERS | {"bool"}, "a bool or an integer"),
}


def filter_problems(
    filters: Sequence[Filter], objects: Sequence[tuple[str, ObjectInfo]]
) -> Iterator[str]:
    """One sentence for each declared filter the objects cannot honour: a global or map no
    object has, or has of another type."""
    for declared in filters:
        field = f"filters.{declared.option}"
        if declared.global_name is not None:
            yield from _global_problems(field, declared, objects)
        if declared.map is not None:
            yield from _map_problems(field, declared.map, objects)


def _global_problems(
    field: str, declared: Filter, objects: Sequence[tuple[str, ObjectInfo]]
) -> Iterator[str]:
    name = declared.global_name
    found = [(file, p.type) for file, info in objects for p in info.parameters if p.name == name]
    if not found:
        yield (
            f"{field}.global names {name!r}, which no object has as a const volatile global "
            f"(declare `const volatile ... {name};` in the C, or fix the name)"
        )
    kinds, needs = _GLOBAL_KINDS[declared.option]
    for file, layout in found:
        if layout.kind not in kinds:
            yield f"{file}: {field}.global {name} is a {type_name(layout)}; it must be {needs}"


def _map_problems(
    field: str, name: str, objects: Sequence[tuple[str, ObjectInfo]]
) -> Iterator[str]:
    found = [(file, m) for file, info in objects for m in info.maps if m.name == name]
    if not found:
        yield (
            f"{field}.map names {name!r}, which no object has (declare a "
            "BPF_MAP_TYPE_CGROUP_ARRAY map of that name, or fix the name)"
        )
    for file, found_map in found:
        if found_map.type != CGROUP_ARRAY:
            yield (
                f"{file}: {field}.map {name} is a {found_map.type} map; it must be "
                "BPF_MAP_TYPE_CGROUP_ARRAY"
            )
