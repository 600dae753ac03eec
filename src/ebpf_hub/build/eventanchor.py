"""Naming the records of an `events` map the C code never names to BTF.

libbpf-tools-style code reserves its records as local variables (`struct event *e =
bpf_ringbuf_reserve(...)`), and clang writes no BTF for the types of local variables: the
object alone cannot say what its events are. The builder finds the struct in the C instead:
it compiles the program once more with a pointer to each name of
`ebpf_hub.bpfobj.eventtype.EVENT_STRUCTS` appended (a name the C does not define stays a
forward declaration), then compiles the object with EBPF_HUB_EVENT's pointer to the first name
that is a complete struct, as if the author had written it. The C is not edited: the extra
declaration reaches clang on stdin, after an `#include` of the program.
"""

from __future__ import annotations

from pathlib import Path

from ebpf_hub.bpfobj.errors import ObjectError
from ebpf_hub.bpfobj.eventtype import (
    EVENT_SECTION,
    EVENT_STRUCTS,
    EVENT_VARIABLE,
    event_map,
    named_struct,
)
from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.errors import HubError

_PROBE_SECTION = ".ebpf_hub_probe"


class MissingEventTypeError(HubError):
    """An `events` map whose records no convention names: `run` could print nothing."""


def unnamed_event_map(path: Path) -> str | None:
    """The kind of the object's `events` map (ringbuf, perf_event_array) when nothing in its
    BTF names the records, else None."""
    info = inspect_object(path)
    events = event_map(info.maps)
    return events.type if events is not None and info.event_type_id is None else None


def _including(source: str, declarations: list[str]) -> str:
    return "\n".join([f'#include "{source}"', *declarations, ""])


def probe_wrapper(source: str) -> str:
    """C that compiles `source` with a pointer to each candidate struct, to see which exist."""
    return _including(
        source,
        [
            f"struct {name} *__ebpf_hub_probe_{name} "
            f'__attribute__((unused, section("{_PROBE_SECTION}")));'
            for name in EVENT_STRUCTS
        ],
    )


def anchor_wrapper(source: str, struct: str) -> str:
    """C that compiles `source` as if it ended with EBPF_HUB_EVENT(struct `struct`)."""
    return _including(
        source,
        [f'struct {struct} *{EVENT_VARIABLE} __attribute__((unused, section("{EVENT_SECTION}")));'],
    )


def probed_struct(probe: Path) -> str | None:
    """The first candidate name the probe object holds as a complete struct."""
    try:
        btf = inspect_object(probe).btf
    except ObjectError:
        return None
    type_id = named_struct(btf)
    return btf[type_id].name if type_id is not None else None


def missing_event_type(label: str, source: str, map_type: str) -> MissingEventTypeError:
    """The one line that says why nothing could be decoded, and what to write."""
    kind = "ring buffer" if map_type == "ringbuf" else "perf event array"
    return MissingEventTypeError(
        f"{label}: {source}: the `events` {kind} carries records of a type the hub cannot "
        "find, so `ebpf-hub run` would print nothing",
        hint=(
            f"name their struct `struct {EVENT_STRUCTS[0]}` (the libbpf-tools convention), or "
            'add EBPF_HUB_EVENT(struct YOUR_TYPE); after #include "ebpf_hub.h"'
        ),
    )
