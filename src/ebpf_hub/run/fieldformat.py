"""One event field as people read it: errno and signal names, flag bits, syscall names,
addresses, durations, wall-clock times, byte sizes (`output.fields` of a package).

A formatter is built once per field and called per event with the decoded value and the
decoded event (an address's family is another field). It returns text; a value it cannot
read (a number out of its table, a C enum already decoded to its name) prints as it is, so a
wrong declaration shows raw values rather than failing the run. Named sets come from
ebpf_hub.formats.sets.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from ebpf_hub import signames
from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.formats import sets as formatsets
from ebpf_hub.formats.sets import value_names
from ebpf_hub.model.outputformat import FieldFormat
from ebpf_hub.run.eventfmt import bounds, number_width

Formatter = Callable[[Any, Any], str]

AF_INET: Final = 2
AF_INET6: Final = 10
_DURATION_NS: Final = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_BYTE_UNITS: Final = {"B": 1, "KiB": 1024}
_MAX_REMEMBERED: Final = 4096
_CLOCKS: Final = {"monotonic": time.CLOCK_MONOTONIC, "boot": time.CLOCK_BOOTTIME}
_INTEGER_KINDS: Final = frozenset({"int", "uint", "enum", "char", "bool"})


def _plain(value: Any) -> str:
    return str(value)


def _by_table(table: Mapping[int, str]) -> Formatter:
    get = table.get
    return lambda value, _event: get(value) or str(value) if type(value) is int else str(value)


def _errno(spec: FieldFormat, layout: Layout) -> Formatter:
    """A negative errno in an unsigned field (a map key `__u32 err = -ret`) is its two's
    complement: the table holds that pattern, so the value needs no conversion."""
    names = formatsets.errno_names()
    if spec.sign == "positive":
        return _by_table({n: name for n, name in names.items() if n > 0})
    mask = (1 << 8 * layout.size) - 1 if layout.kind == "uint" else -1
    return _by_table({-n & mask: name for n, name in names.items() if n > 0})


def _enum(spec: FieldFormat, layout: Layout, arch: str) -> Formatter:
    """The name of a value: from `set:`/`values:` when declared (on a C enum too, where they
    rename its enumerators), else the C enum's own. A C enum field arrives decoded to its
    enumerator's name, or as the number (the compiled JSON line): both read as the number."""
    names = {v.value: v.name for v in layout.values}
    declared = value_names(spec, arch)
    names.update({number: name for name, number in reversed(declared.items())})
    numbers = {v.name: v.value for v in layout.values}
    get = names.get

    def text(value: Any, _event: Any) -> str:
        if type(value) is str:
            value = numbers.get(value, value)
        return get(value) or str(value) if type(value) is int else str(value)

    return text


def _flags(names: Mapping[str, int], size: int) -> Formatter:
    """Set bits by name joined with `|` (names of several bits first, as O_SYNC holds
    O_DSYNC), leftover bits in hex; the value as unsigned of the field's width."""
    zero = next((name for name, bits in names.items() if bits == 0), "0")
    ordered = sorted(
        ((bits, name) for name, bits in names.items() if bits > 0),
        key=lambda item: (-bin(item[0]).count("1"), item[0]),
    )
    mask = (1 << (8 * size)) - 1
    seen: dict[int, str] = {}  # a tool sees few distinct flag words: remember their text

    def spelled(value: int) -> str:
        if not value:
            return zero
        parts, rest = [], value
        for bits, name in ordered:
            if value & bits == bits and rest & bits:
                parts.append(name)
                rest &= ~bits
        if rest:
            parts.append(hex(rest))
        return "|".join(parts)

    def text(value: Any, _event: Any) -> str:
        if type(value) is not int:
            return str(value)
        found = seen.get(value)
        if found is None:
            found = spelled(value & mask)
            if len(seen) < _MAX_REMEMBERED:
                seen[value] = found
        return found

    return text


def _address_bytes(layout: Layout) -> Callable[[Any], bytes]:
    """The address bytes of a decoded value, in network order as the kernel keeps them."""
    if layout.kind in ("ipv4", "ipv6"):
        family = socket.AF_INET if layout.kind == "ipv4" else socket.AF_INET6
        return lambda text: socket.inet_pton(family, text)
    if layout.kind in ("int", "uint"):
        size = layout.size
        return lambda number: (number % (1 << 8 * size)).to_bytes(size, "little")
    element = layout.element.size if layout.element is not None else 1
    return lambda items: b"".join(
        (i % (1 << 8 * element)).to_bytes(element, "little") for i in items
    )


def _address_text(raw: bytes, family: Any) -> str:
    if family in (AF_INET, "AF_INET") or (family is None and len(raw) == 4):
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    if (family in (AF_INET6, "AF_INET6") or family is None) and len(raw) == 16:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return "-"


def _ip(layout: Layout, family: Callable[[Any], Any] | None) -> Formatter:
    to_bytes = _address_bytes(layout)

    def text(value: Any, event: Any) -> str:
        try:
            return _address_text(to_bytes(value), family(event) if family else None)
        except (TypeError, ValueError, OSError, OverflowError):
            return str(value)

    return text


def _port(spec: FieldFormat) -> Formatter:
    if spec.byte_order != "network":
        return lambda value, _event: str(value)
    return lambda value, _event: (
        str(int.from_bytes((value & 0xFFFF).to_bytes(2, "little"), "big"))
        if type(value) is int
        else str(value)
    )


def human_duration(ns: float) -> str:
    """`850ns`, `12.3us`, `4.56ms`, `2.01s`: three significant figures or so."""
    size = abs(ns)
    if size < 1_000:
        return f"{ns:.0f}ns"
    if size < 1_000_000:
        return f"{ns / 1_000:.1f}us"
    if size < 1_000_000_000:
        return f"{ns / 1_000_000:.2f}ms"
    return f"{ns / 1_000_000_000:.2f}s"


def _duration(spec: FieldFormat) -> Formatter:
    scale = _DURATION_NS[spec.unit or "ns"]
    return lambda value, _event: human_duration(value * scale) if type(value) is int else str(value)


def wall_clock(seconds: float) -> str:
    """Local time `HH:MM:SS.mmm`."""
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}"


def _timestamp(spec: FieldFormat) -> Formatter:
    """Kernel clock ns to wall clock: the offset between the two clocks is read once (NTP
    may slew the wall clock later, by far less than a millisecond per second)."""
    clock = _CLOCKS[spec.clock or "monotonic"]
    offset = time.time_ns() - time.clock_gettime_ns(clock)
    return lambda value, _event: (
        wall_clock((value + offset) / 1e9) if type(value) is int and value > 0 else str(value)
    )


def _age(spec: FieldFormat) -> Formatter:
    clock = _CLOCKS[spec.clock or "monotonic"]
    now = time.clock_gettime_ns
    return lambda value, _event: (
        human_duration(now(clock) - value) if type(value) is int and value > 0 else str(value)
    )


def human_bytes(count: float) -> str:
    """`512B`, `1.5KiB`, `20.0MiB`, `3.1GiB`."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f}{unit}" if unit == "B" else f"{count:.1f}{unit}"
        count /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _bytes(spec: FieldFormat) -> Formatter:
    scale = _BYTE_UNITS[spec.unit or "B"]
    return lambda value, _event: human_bytes(value * scale) if type(value) is int else str(value)


def formatter(
    spec: FieldFormat, layout: Layout, arch: str, family: Callable[[Any], Any] | None = None
) -> Formatter:
    """The formatter of a field laid out as `layout`; `family` reads an ip field's family
    from the decoded event. The declaration was checked (ebpf_hub.formats.plan)."""
    if spec.format == "errno":
        return _errno(spec, layout)
    if spec.format == "signal":
        return _by_table(signames.signal_names())  # the names parameters take, too
    if spec.format == "flags":
        return _flags(value_names(spec, arch), layout.size)
    if spec.format == "enum":
        return _enum(spec, layout, arch)
    if spec.format == "syscall":
        return _by_table(formatsets.syscall_names(arch))
    if spec.format == "ip":
        return _ip(layout, family)
    if spec.format == "port":
        return _port(spec)
    if spec.format == "duration":
        return _duration(spec)
    if spec.format == "timestamp":
        return _timestamp(spec)
    if spec.format == "age":
        return _age(spec)
    if spec.format == "bytes":
        return _bytes(spec)
    return lambda value, _event: _plain(value)


def width(spec: FieldFormat, layout: Layout, arch: str) -> int:
    """The width of a formatted field's column: its widest text, decided before the first
    row (a stream's header is printed first): the longest name of the format's table, or
    the number a value out of it stays; a duration, age or size at the bounds of the field
    and of each unit. A combination of flags may be wider than its longest name: the cells
    after it take the overflow back from their padding (eventfmt.row_format)."""
    kind = spec.format
    if kind == "hidden":
        return 0
    number = number_width(layout) if layout.kind in _INTEGER_KINDS else 1
    names = _names(spec, layout, arch)
    if kind == "flags":  # leftover bits print in hex
        return max([len(hex((1 << 8 * layout.size) - 1)), *map(len, names)])
    if kind in ("errno", "signal", "syscall", "enum"):  # unknown values stay numbers
        return max([number, *map(len, names)])
    if kind == "ip":
        return 15 if layout.size == 4 else 39  # 255.255.255.255, or eight groups of ffff
    if kind == "timestamp":  # a time of day; a value <= 0 stays a number
        return max(len(wall_clock(0)), number if layout.kind == "int" else 1)
    if kind == "port":
        return number
    low, high = bounds(layout)
    if kind == "age":  # now minus any value of the field: as wide as a signed one in ns
        low, high = -max(high, -low), max(high, -low)
        spec = FieldFormat("duration")
    text = formatter(spec, layout, arch)
    return max(len(text(value, None)) for value in _probes(spec, low, high))


def _names(spec: FieldFormat, layout: Layout, arch: str) -> list[str]:
    """Every name a table format prints (none for the other formats)."""
    if spec.format == "errno":
        return list(formatsets.errno_names().values())
    if spec.format == "signal":
        return list(signames.signal_names().values())
    if spec.format == "syscall":
        return list(formatsets.syscall_names(arch).values())
    if spec.format in ("flags", "enum"):
        return [*value_names(spec, arch), *(v.name for v in layout.values)]
    return []


def _probes(spec: FieldFormat, low: int, high: int) -> set[int]:
    """The values whose text is widest: the field's bounds, and the largest value below
    each unit change (999999ns prints `1000.0us`), either sign."""
    if spec.format == "bytes":
        scale, changes = _BYTE_UNITS[spec.unit or "B"], [1024**n for n in range(1, 5)]
    else:
        scale, changes = _DURATION_NS[spec.unit or "ns"], [1_000, 1_000_000, 1_000_000_000]
    below = [-(-change // scale) - 1 for change in changes]
    found = {low, high, *below, *(-value for value in below)}
    return {value for value in found if low <= value <= high}
