"""Values of typed parameters: what a person types, to the number the kernel compares, and back.

`run` parses (`KILL,TERM` to a bitmask, `10ms` to 10000 when the kernel wants microseconds);
`info` and the site render an object's default the same way (`KILL`, `10ms`). Bytes are
`ebpf_hub.run.params`'s job: here values are Python ints and strings, checked against the
declaration and the width of the C variable. Every refusal is a ValueError whose text ends
with what is accepted, for the caller to prefix with the parameter's name.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Final

from ebpf_hub.model.paramdecl import ParameterDecl
from ebpf_hub.safetext import quote
from ebpf_hub.signames import ACCEPTED, signal_name, signal_number

# Nanoseconds per unit: the units a value may be written in; a declaration names one of the
# first four (schema: parameters.*.unit for a duration).
DURATION_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_RENDER_UNITS: Final = ("h", "m", "s", "ms", "us", "ns")
_DURATION: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]*)")
_NONE: Final = frozenset({"", "none"})


def parse_signal(text: str) -> int:
    """One signal, or 0 (`none`, `0`) for no signal."""
    if text.strip().lower() in _NONE | {"0"}:
        return 0
    return _signal(text)


def _signal(text: str) -> int:
    try:
        return signal_number(text)
    except ValueError as exc:
        raise ValueError(f"{exc}; accepted: {ACCEPTED}") from None


def parse_signal_set(text: str, bit: str, width: int) -> int:
    """`KILL,TERM` (or `9,15`) as a bitmask of `width` bits; `9` is signal 9, never a mask."""
    mask = 0
    shift = 1 if bit == "signal-1" else 0
    if text.strip().lower() in _NONE:
        return 0
    for word in text.split(","):
        number = _signal(word)
        if number - shift >= width:
            raise ValueError(
                f"signal {number} does not fit this {width}-bit set; accepted: signals "
                f"1-{width - 1 + shift}"
            )
        mask |= 1 << (number - shift)
    return mask


def parse_duration(text: str, unit: str) -> int:
    """`10ms`, `1.5s`, `250us` as a whole number of `unit`; a bare number is in `unit`."""
    accepted = f"accepted: a duration such as 10ms, 1.5s or 250us (a bare number is in {unit})"
    match = _DURATION.fullmatch(text.strip())
    written = match.group(2) if match else ""
    if match is None or (written and written not in DURATION_UNITS):
        raise ValueError(f"{quote(text)} is not a duration; {accepted}")
    nanoseconds = Fraction(match.group(1)) * DURATION_UNITS[written or unit]
    value = nanoseconds / DURATION_UNITS[unit]
    if value.denominator != 1:
        raise ValueError(
            f"{quote(text)} is not a whole number of {unit}, the unit the program keeps it in; "
            f"accepted: multiples of 1{unit}"
        )
    return int(value)


def parse_named(text: str, values: tuple[tuple[str, int], ...]) -> int:
    """An enum value by name (any case) or number."""
    word = text.strip()
    for name, value in values:
        if name.lower() == word.lower():
            return value
    try:
        return int(word, 0)
    except ValueError:
        names = ", ".join(name for name, _ in values)
        raise ValueError(f"{quote(text)} is not a known value; accepted: {names}") from None


def render(decl: ParameterDecl, value: Any) -> str:
    """`value` (an object's default, as its description holds it) in the declared form."""
    if isinstance(value, list):
        item = ParameterDecl(decl.name, decl.description, decl.items or "int")
        shown = [render(item, v) for v in value if v not in (0, "")]
        return ",".join(shown) or "none"
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if decl.type == "signal":
        return signal_name(value) if value else "none"
    if decl.type == "signal-set":
        shift = 1 if decl.bit == "signal-1" else 0
        value %= 1 << 64  # a signed C int with its top bit set decodes negative
        bits = [n + shift for n in range(value.bit_length()) if value >> n & 1]
        return ",".join(signal_name(n) for n in bits) or "none"
    if decl.type == "duration" and decl.unit in DURATION_UNITS:
        return _render_duration(value * DURATION_UNITS[decl.unit])
    if decl.type == "bool":
        return "true" if value else "false"
    if decl.type == "enum" and decl.values:
        return next((name for name, v in decl.values if v == value), str(value))
    return str(value)


def _render_duration(nanoseconds: int) -> str:
    if nanoseconds == 0:
        return "0"
    for unit in _RENDER_UNITS:
        whole, rest = divmod(nanoseconds, DURATION_UNITS[unit])
        if not rest:
            return f"{whole}{unit}"
    return f"{nanoseconds}ns"
