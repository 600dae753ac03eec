"""The maps an object declares, read the way libbpf reads them.

BTF-defined maps are the variables of the ``.maps`` DATASEC.  Each is an anonymous struct
whose members encode the definition: ``__uint(name, N)`` is a pointer to an ``int[N]``
(so N is the array length) and ``__type(name, T)`` a pointer to T.  Global variables
become one-element array maps per data section (``.data``, ``.rodata``, ``.bss`` and their
``.<suffix>`` variants), which libbpf creates too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ._json import NOT_JSON, JsonMixin
from .btf import Btf, BtfArray, BtfDatasec, BtfPtr, BtfStruct, BtfVar
from .elf import ElfObject
from .errors import ObjectError

#: ``MAP_TYPES[n]`` is the name of ``enum bpf_map_type`` value n (libbpf's spelling).
MAP_TYPES: Final = (
    "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
    "percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie",
    "array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash",
    "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
    "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
    "bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
)  # fmt: skip

_PINNING: Final = ("none", "by_name")  # enum libbpf_pin_type
_GLOBAL_DATA: Final = (".data", ".rodata", ".bss")
_MAP_IN_MAP_VALUE_SIZE: Final = 4  # an inner map (or program) is stored as a 32-bit fd


@dataclass(frozen=True)
class MapInfo(JsonMixin):
    """One map.  ``section`` is ``.maps`` or the data section a global-data map holds;
    ``key_type``/``value_type`` are C spellings (None when declared by size only)."""

    name: str
    type: str
    section: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    pinning: str
    key_type: str | None
    value_type: str | None
    key_type_id: int | None = field(default=None, metadata=NOT_JSON)
    value_type_id: int | None = field(default=None, metadata=NOT_JSON)


def find_maps(elf: ElfObject, btf: Btf) -> tuple[MapInfo, ...]:
    """The BTF-defined and global-data maps of an object, sorted by name."""
    if elf.section("maps") is not None:
        raise ObjectError(
            "legacy 'maps' section (struct bpf_map_def) is not supported by libbpf 1.0+; "
            'declare maps with __uint/__type in SEC(".maps")'
        )
    datasec = btf.find(".maps", BtfDatasec)
    defined = [_btf_map(btf, secinfo.type) for secinfo in datasec.vars] if datasec else []
    return tuple(sorted([*defined, *_global_data_maps(elf, btf)], key=lambda m: m.name))


def _btf_map(btf: Btf, var_id: int) -> MapInfo:
    var = btf[var_id]
    definition = btf[btf.resolve(var.type)] if isinstance(var, BtfVar) else None
    if not isinstance(definition, BtfStruct):
        raise ObjectError(f"map {var.name!r}: its definition in .maps is not a struct")
    numbers: dict[str, int] = {}
    types: dict[str, int] = {}
    has_values = False
    for member in definition.members:
        pointer = btf[btf.skip_modifiers(member.type)]
        if member.name == "values":  # __array(values, ...): initial inner maps or programs
            has_values = True
        elif not isinstance(pointer, BtfPtr):
            raise ObjectError(f"map {var.name!r}: member {member.name!r} is not __uint or __type")
        elif member.name in ("key", "value"):
            types[member.name] = pointer.type
        else:
            numbers[member.name] = _uint(btf, var.name, member.name, pointer)
    key_id, value_id = types.get("key"), types.get("value")
    map_type = numbers.get("type", 0)
    pinning = numbers.get("pinning", 0)
    value_size = numbers.get("value_size", _MAP_IN_MAP_VALUE_SIZE if has_values else 0)
    return MapInfo(
        name=var.name,
        type=MAP_TYPES[map_type] if map_type < len(MAP_TYPES) else f"unknown_map_type_{map_type}",
        section=".maps",
        key_size=btf.size_of(key_id) if key_id else numbers.get("key_size", 0),
        value_size=btf.size_of(value_id) if value_id else value_size,
        max_entries=numbers.get("max_entries", 0),
        flags=numbers.get("map_flags", 0),
        pinning=_PINNING[pinning] if pinning < len(_PINNING) else f"unknown_{pinning}",
        key_type=btf.type_name(key_id) if key_id else None,
        value_type=btf.type_name(value_id) if value_id else None,
        key_type_id=key_id,
        value_type_id=value_id,
    )


def _uint(btf: Btf, map_name: str, member: str, pointer: BtfPtr) -> int:
    array = btf[btf.skip_modifiers(pointer.type)]
    if not isinstance(array, BtfArray):
        raise ObjectError(f"map {map_name!r}: member {member!r} is not __uint(name, value)")
    return array.nelems


def _global_data_maps(elf: ElfObject, btf: Btf) -> list[MapInfo]:
    maps = []
    for section in elf.sections:
        if not section.size or not _is_global_data(section.name):
            continue
        datasec = btf.find(section.name, BtfDatasec)
        maps.append(
            MapInfo(
                name=section.name,
                type="array",
                section=section.name,
                key_size=4,
                value_size=section.size,
                max_entries=1,
                flags=0,
                pinning="none",
                key_type=None,
                value_type=datasec.name if datasec else None,
                value_type_id=datasec.type_id if datasec else None,
            )
        )
    return maps


def _is_global_data(name: str) -> bool:
    return any(name == base or name.startswith(base + ".") for base in _GLOBAL_DATA)
