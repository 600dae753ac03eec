"""Which struct the records of an object's `events` map are: what `run` decodes them as.

Two conventions are understood, in this order:

1. the hub's own: ``EBPF_HUB_EVENT(struct event)`` (ebpf_hub.h) names the type through a
   pointer variable in the ``.ebpf_hub`` section;
2. the libbpf-tools one: the record is a struct named ``event`` (or ``event_t``, ``data_t``),
   shared with user space in the tool's header.

A map's own value type cannot name it: the kernel wants a perf event array's values to be
4 bytes (file descriptors) and a ring buffer's to be none, so such a map would not load.

A struct only the C code's local variables use is not in an object's BTF; the builder adds the
first convention's anchor for it (`ebpf_hub.build.eventanchor`), so published objects and
the runner rely on BTF alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .btf import Btf, BtfDatasec, BtfPtr, BtfStruct, BtfVar
from .errors import ObjectError
from .maps import MapInfo

EVENTS_MAP: Final = "events"
EVENT_MAP_TYPES: Final = frozenset({"ringbuf", "perf_event_array"})
# The event convention of ebpf_hub.h: EBPF_HUB_EVENT(type) declares this pointer variable.
EVENT_SECTION: Final = ".ebpf_hub"
EVENT_VARIABLE: Final = "__ebpf_hub_event"
# The record names libbpf-tools-style code uses, most usual first.
EVENT_STRUCTS: Final = ("event", "event_t", "data_t")


def event_map(maps: Sequence[MapInfo]) -> MapInfo | None:
    """The `events` map, if the object has one that carries records (ring buffer, perf array)."""
    found = next((m for m in maps if m.name == EVENTS_MAP), None)
    return found if found is not None and found.type in EVENT_MAP_TYPES else None


def anchored_type(btf: Btf) -> int | None:
    """The type id EBPF_HUB_EVENT points at, if the object uses the convention."""
    datasec = btf.find(EVENT_SECTION, BtfDatasec)
    for secinfo in datasec.vars if datasec else ():
        var = btf[secinfo.type]
        if isinstance(var, BtfVar) and var.name == EVENT_VARIABLE:
            pointer = btf[btf.resolve(var.type)]
            if not isinstance(pointer, BtfPtr):
                raise ObjectError(f"{EVENT_VARIABLE} is not a pointer: use EBPF_HUB_EVENT(type)")
            return pointer.type
    return None


def named_struct(btf: Btf) -> int | None:
    """The first complete struct of BTF named like a libbpf-tools record (EVENT_STRUCTS)."""
    for name in EVENT_STRUCTS:
        found = btf.find(name, BtfStruct)
        if found is not None:
            return found.type_id
    return None


def event_type(btf: Btf, maps: Sequence[MapInfo]) -> int | None:
    """The type id of the `events` map's records by the conventions above, or None."""
    anchored = anchored_type(btf)
    if anchored is not None:
        return anchored
    return named_struct(btf) if event_map(maps) is not None else None
