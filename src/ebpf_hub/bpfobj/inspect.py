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
from .btf import Btf
from .elf import ElfObject, read_elf
from .errors import ObjectError
from .eventtype import event_type
from .layout import Layout, build_layout
from .maps import MapInfo, find_maps
from .objcalls import read_calls
from .params import Parameter, find_parameters
from .programs import ProgramInfo

_LICENSE_SECTION: Final = "license"


@dataclass(frozen=True)
class ObjectInfo(JsonMixin):
    """Everything the hub needs to know about one object.

    ``event`` is the layout of the `events` map's records (:mod:`.eventtype` says how it is
    found; None when the object has no such map or nothing names its type);
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
    maps = find_maps(elf, btf)
    event_type_id = event_type(btf, maps)
    calls = read_calls(elf, lambda: btf)
    return ObjectInfo(
        license=_license(elf),
        programs=calls.programs,
        maps=maps,
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
