"""Inspect a compiled CO-RE BPF object without loading it: ``inspect_object(path)``.

This is what the builder checks a package's declarations against and writes into the
artifact config, and what the runner decodes output with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ._json import NOT_JSON, JsonMixin
from .btf import Btf, BtfDatasec, BtfPtr, BtfVar
from .elf import ElfObject, read_elf
from .errors import ObjectError
from .layout import Layout, build_layout
from .maps import MapInfo, find_maps
from .objcalls import read_calls
from .params import Parameter, find_parameters
from .programs import ProgramInfo

# The event convention of ebpf_hub.h: EBPF_HUB_EVENT(type) declares this pointer variable.
EVENT_SECTION: Final = ".ebpf_hub"
EVENT_VARIABLE: Final = "__ebpf_hub_event"
_LICENSE_SECTION: Final = "license"


@dataclass(frozen=True, slots=True)
class ObjectInfo(JsonMixin):
    """Everything the hub needs to know about one object.

    ``event`` is the layout of the type named with EBPF_HUB_EVENT (None without one);
    ``btf`` stays available, outside the JSON form, to decode events and map values.
    ``helpers`` and ``kfuncs`` are what any function of the object calls, reached by a
    program's call graph or not, and ``kernel_variables`` the ``__ksym`` variables it
    declares: what :mod:`.capabilities` judges the object by. They stay out of the JSON
    form: the artifact config lists calls per program, and a client reads them here, from
    the object's bytes, never from a config.
    """

    license: str | None
    programs: tuple[ProgramInfo, ...]
    maps: tuple[MapInfo, ...]
    parameters: tuple[Parameter, ...]
    event: Layout | None
    event_type_id: int | None = field(metadata=NOT_JSON)
    helpers: tuple[str, ...] = field(metadata=NOT_JSON)
    kfuncs: tuple[str, ...] = field(metadata=NOT_JSON)
    kernel_variables: tuple[str, ...] = field(metadata=NOT_JSON)
    btf: Btf = field(metadata=NOT_JSON, repr=False, compare=False)


def inspect_object(path: str | os.PathLike[str]) -> ObjectInfo:
    """Read the object at ``path``; any problem raises a one-line ObjectError naming it."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ObjectError(f"{path}: {err.strerror}") from None
    try:
        return _inspect(data)
    except ObjectError as err:
        raise ObjectError(f"{path}: {err}") from None


def _inspect(data: bytes) -> ObjectInfo:
    elf = read_elf(data)
    btf_section = elf.section(".BTF")
    if btf_section is None:
        raise ObjectError("no BTF (.BTF section): compile with clang -g, strip with llvm-strip -g")
    btf = Btf(btf_section.data)
    event_type_id = _event_type(btf)
    calls = read_calls(elf, lambda: btf)
    return ObjectInfo(
        license=_license(elf),
        programs=calls.programs,
        maps=find_maps(elf, btf),
        parameters=find_parameters(elf, btf),
        event=None if event_type_id is None else build_layout(btf, event_type_id),
        event_type_id=event_type_id,
        helpers=calls.helpers,
        kfuncs=calls.kfuncs,
        kernel_variables=calls.kernel_variables,
        btf=btf,
    )


def _license(elf: ElfObject) -> str | None:
    section = elf.section(_LICENSE_SECTION)
    return section.data.partition(b"\0")[0].decode("utf-8", "replace") if section else None


def _event_type(btf: Btf) -> int | None:
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
