"""Parameters: the ``const volatile`` globals a user may set before load (see ebpf_hub.h).

They live in ``.rodata`` (or a ``.rodata.<name>`` section); ``volatile`` is what stops the
compiler from folding their value into the code, so a read-only global without it is a
constant, not a parameter.  The default is decoded from the section's bytes at the offset
the symbol table gives (clang leaves DATASEC offsets 0 for libbpf to fill in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ._json import NOT_JSON, JsonMixin
from .btf import (
    Btf,
    BtfArray,
    BtfConst,
    BtfDatasec,
    BtfRestrict,
    BtfTypedef,
    BtfTypeTag,
    BtfVar,
    BtfVolatile,
)
from .decode import Decoder
from .elf import ElfObject, ElfSection
from .errors import ObjectError
from .layout import Layout, build_layout

_RODATA: Final = ".rodata"
_MAX_CHAIN: Final = 64
_INTEGERS: Final = frozenset({"int", "uint"})
_INTEGER: Final = "an integer (int, __u32, __u64, pid_t...)"
# What C type each declared type (ebpf_hub.model.paramdecl) needs: a check of the layout
# (and of whether the declaration names `values:`) and the words for the fix.
_NEEDS: Final[dict[str, tuple[Callable[[Layout, bool], bool], str]]] = {
    "int": (lambda lay, _values: lay.kind in _INTEGERS, _INTEGER),
    "duration": (lambda lay, _values: lay.kind in _INTEGERS, _INTEGER),
    "signal": (lambda lay, _values: lay.kind in _INTEGERS, _INTEGER),
    "bool": (lambda lay, _values: lay.kind in _INTEGERS | {"bool"}, "a bool or an integer"),
    "signal-set": (
        lambda lay, _values: lay.kind in _INTEGERS and lay.size in (4, 8),
        "an integer of 4 or 8 bytes (__u32, __u64)",
    ),
    "enum": (
        lambda lay, values: lay.kind == "enum" or (lay.kind in _INTEGERS and values),
        "a C enum (or an integer, with values: naming its numbers)",
    ),
    "string": (lambda lay, _values: lay.kind == "string", "a char array"),
}


@dataclass(frozen=True)
class Parameter(JsonMixin):
    """One parameter: where it sits, its layout and its default value."""

    name: str
    section: str
    offset: int
    size: int
    type: Layout
    default: Any
    type_id: int = field(metadata=NOT_JSON)


def find_parameters(elf: ElfObject, btf: Btf) -> tuple[Parameter, ...]:
    """The parameters of an object, sorted by name."""
    parameters = []
    for section in elf.sections:
        if section.name != _RODATA and not section.name.startswith(_RODATA + "."):
            continue
        datasec = btf.find(section.name, BtfDatasec)
        for secinfo in datasec.vars if datasec else ():
            var = btf[secinfo.type]
            if isinstance(var, BtfVar) and _is_volatile(btf, var.type):
                symbol = elf.symbol(section.index, var.name)
                offset = symbol.value if symbol else secinfo.offset
                parameters.append(_parameter(btf, var, section, offset))
    return tuple(sorted(parameters, key=lambda p: p.name))


def _parameter(btf: Btf, var: BtfVar, section: ElfSection, offset: int) -> Parameter:
    layout = build_layout(btf, var.type)
    raw = section.data[offset : offset + layout.size]
    if len(raw) != layout.size:
        raise ObjectError(f"parameter {var.name!r} lies outside section {section.name}")
    default = Decoder(layout)(raw)
    return Parameter(var.name, section.name, offset, layout.size, layout, default, var.type)


def _is_volatile(btf: Btf, type_id: int) -> bool:
    """Whether ``volatile`` qualifies the type or, for an array, its elements."""
    for _ in range(_MAX_CHAIN):
        current = btf[type_id]
        if isinstance(current, BtfVolatile):
            return True
        if isinstance(current, BtfArray):
            type_id = current.element_type
        elif isinstance(current, (BtfConst, BtfRestrict, BtfTypeTag, BtfTypedef)):
            type_id = current.type
        else:
            return False
    return False


def type_name(layout: Layout) -> str:
    """The C type without the `const volatile` every parameter carries."""
    words = [w for w in layout.type.split() if w not in ("const", "volatile")]
    return " ".join(words)


def unfit(
    declared: str, layout: Layout, *, values: bool = False, items: str | None = None
) -> str | None:
    """What C type a parameter declared `declared` needs when `layout` is not one, or None
    when it fits: the rule the build checks a package by, and the runner an object by.
    `values`: the declaration names an enum's values; `items`: a list's element type."""
    if declared == "list":
        inner = _NEEDS[items or "int"][1]
        if layout.kind != "array" or layout.element is None:
            return f"an array whose elements are {inner}"
        return (
            None if unfit(items or "int", layout.element) is None else f"elements that are {inner}"
        )
    fits, needs = _NEEDS[declared]
    return None if fits(layout, values) else needs
