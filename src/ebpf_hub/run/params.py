"""Package parameters from the command line, typed from the object's BTF.

A package's parameters are its `const volatile` globals (see ebpf_hub.h). Users set them
two ways, which mix freely (the later assignment of a name wins):

    ebpf-hub run opensnoop --param target_pid=1234 --param failed_only=true
    ebpf-hub run opensnoop -- --target-pid 1234 --failed-only

After `--`, dashes in a name stand for underscores, a boolean given alone is true and
`--no-NAME` makes it false. A value must fit the C type: integers in range (decimal or
0x/0o/0b), booleans as true/false/yes/no/on/off/1/0, enums by enumerator name or number,
char arrays as text that leaves room for the final NUL, ipv4_addr_t/ipv6_addr_t as
addresses. A parameter the package declares (`ebpf_hub.model.paramdecl`) takes the declared
form instead: signal names, a comma list of them for a signal set, `10ms` for a duration, a
comma list for an array, enum names from `values:` (`ebpf_hub.model.paramvalues` converts).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Mapping, Sequence

from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.bpfobj.params import Parameter, type_name, unfit
from ebpf_hub.model import paramvalues
from ebpf_hub.model.paramdecl import ParameterDecl
from ebpf_hub.run.errors import ParamError
from ebpf_hub.safetext import clip, quote

Assignment = tuple[str, str]
Declared = Mapping[str, ParameterDecl]

_TRUE = frozenset({"1", "true", "yes", "on", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "n"})
_FLOAT_CODES = {4: "<f", 8: "<d"}


def normalize(name: str) -> str:
    """`min-us` and `min_us` name the same parameter (C names have no dashes)."""
    return name.replace("-", "_")


def parse_param_options(options: Sequence[str]) -> list[Assignment]:
    """The values of repeated `--param NAME=VALUE` options."""
    assignments = []
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name:
            raise ParamError(f"--param {quote(option)}: expected NAME=VALUE, e.g. target_pid=1234")
        assignments.append((normalize(name), value))
    return assignments


def parse_extra_args(
    args: Sequence[str], known: Mapping[str, Parameter], declared: Declared | None = None
) -> list[Assignment]:
    """The words after `--`: `--name value`, `--name=value`, `--flag`, `--no-flag`; a flag
    is a parameter whose C type is bool or that is declared `type: bool`."""

    def is_bool(name: str) -> bool:
        decl = (declared or {}).get(name)
        return _is_bool(known.get(name)) if decl is None else decl.type == "bool"

    assignments = []
    words = list(args)
    while words:
        word = words.pop(0)
        if not word.startswith("--") or len(word) == 2:
            raise ParamError(
                f"unexpected {quote(word)} after '--': parameters are given as --NAME VALUE"
            )
        name, sep, value = word[2:].partition("=")
        name = normalize(name)
        if sep:
            assignments.append((name, value))
        elif is_bool(name) and (not words or words[0].startswith("--")):
            assignments.append((name, "true"))
        elif name.startswith("no_") and is_bool(name[3:]):
            assignments.append((name[3:], "false"))
        elif not words:
            raise ParamError(f"{quote(word)} needs a value after it")
        else:
            assignments.append((name, words.pop(0)))
    return assignments


def _is_bool(param: Parameter | None) -> bool:
    return param is not None and param.type.kind == "bool"


def describe(param: Parameter) -> str:
    """`target_pid (pid_t, default 0)`: how errors and listings show a parameter."""
    default = param.default
    shown = str(default).lower() if isinstance(default, bool) else repr(default)
    return f"{param.name} ({type_name(param.type)}, default {shown})"


def encode_parameters(
    assignments: Sequence[Assignment],
    objects: Sequence[Sequence[Parameter]],
    declared: Declared | None = None,
) -> list[dict[str, bytes]]:
    """For each object, the encoded value of each assigned parameter it declares.

    A name is set in every object that declares it; a name no object declares is an error
    that lists the parameters there are. `declared`: the package's typed declarations.
    """
    encoded: list[dict[str, bytes]] = [{} for _ in objects]
    for name, value in assignments:
        found = False
        for values, params in zip(encoded, objects):
            for param in params:
                if param.name == name:
                    values[name] = encode_value(param, value, (declared or {}).get(name))
                    found = True
        if not found:
            raise ParamError(_unknown(name, [p for params in objects for p in params]))
    return encoded


def _unknown(name: str, params: Sequence[Parameter]) -> str:
    if not params:
        return f"unknown parameter {quote(name)}: this package has no parameters"
    listed = ", ".join(describe(p) for p in sorted(params, key=lambda p: p.name))
    return f"unknown parameter {quote(name)}; the parameters are: {listed}"


def encode_value(param: Parameter, text: str, decl: ParameterDecl | None = None) -> bytes:
    """`text` as the bytes of `param`'s C type, or a ParamError saying what fits; `decl`,
    the package's declaration of it, says what the text means."""
    layout = param.type
    if decl is not None and decl.type in _TYPED:
        needs = unfit(decl.type, layout, values=decl.values is not None, items=decl.items)
        if needs is not None:
            raise ParamError(
                f"parameter {param.name} is declared {decl.type}, which needs {needs}, but the "
                f"object's is a {type_name(layout)}: correct the package's parameters: entry"
            )
        try:
            return _TYPED[decl.type](decl, layout, text.strip())
        except ValueError as exc:
            raise ParamError(
                f"parameter {param.name} ({_declared_type(decl, layout)}): {exc}"
            ) from None
    encoder = _ENCODERS.get(layout.kind)
    if encoder is None:
        raise ParamError(
            f"parameter {param.name} is a {type_name(layout)} ({layout.kind}): "
            "it cannot be set from the command line"
        )
    try:
        return encoder(layout, text.strip())
    except ValueError as exc:
        raise ParamError(f"parameter {param.name} ({type_name(layout)}): {exc}") from None


def _parse_int(text: str) -> int:
    for base in (10, 0):
        try:
            return int(text, base)
        except ValueError:
            continue
    raise ValueError(f"{quote(text)} is not an integer")


def _int_bytes(layout: Layout, value: int, signed: bool) -> bytes:
    bits = 8 * layout.size
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise ValueError(f"{clip(value)} is out of range {low}..{high}")
    return value.to_bytes(layout.size, "little", signed=signed)


def _encode_int(layout: Layout, text: str) -> bytes:
    return _int_bytes(layout, _parse_int(text), layout.kind == "int")


def _encode_bool(layout: Layout, text: str) -> bytes:
    word = text.lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(f"{quote(text)} is not a boolean: use true or false")
    return _int_bytes(layout, word in _TRUE, False)


def _encode_char(layout: Layout, text: str) -> bytes:
    raw = text.encode()
    if len(raw) == 1:
        return raw
    return _int_bytes(layout, _parse_int(text), True)


def _encode_enum(layout: Layout, text: str) -> bytes:
    for enumerator in layout.values:
        if enumerator.name == text:
            value = enumerator.value
            break
    else:
        try:
            value = _parse_int(text)
        except ValueError:
            names = ", ".join(v.name for v in layout.values)
            raise ValueError(f"{quote(text)} is not one of {names}") from None
    # clang 14 stores a negative enumerator as its unsigned pattern: accept both readings.
    return _int_bytes(layout, value % (1 << 8 * layout.size), False)


def _encode_string(layout: Layout, text: str) -> bytes:
    raw = text.encode()
    if len(raw) >= layout.size:
        raise ValueError(f"{quote(text)} is {len(raw)} bytes; at most {layout.size - 1} fit")
    return raw.ljust(layout.size, b"\0")


def _encode_address(family: int) -> Callable[[Layout, str], bytes]:
    def encode(_layout: Layout, text: str) -> bytes:
        try:
            return socket.inet_pton(family, text)
        except OSError:
            kind = "IPv4" if family == socket.AF_INET else "IPv6"
            raise ValueError(f"{quote(text)} is not an {kind} address") from None

    return encode


def _encode_float(layout: Layout, text: str) -> bytes:
    code = _FLOAT_CODES.get(layout.size)
    if code is None:
        raise ValueError(f"floats of {layout.size} bytes are not supported")
    try:
        return struct.pack(code, float(text))
    except ValueError:
        raise ValueError(f"{quote(text)} is not a number") from None


_ENCODERS: dict[str, Callable[[Layout, str], bytes]] = {
    "int": _encode_int,
    "uint": _encode_int,
    "bool": _encode_bool,
    "char": _encode_char,
    "enum": _encode_enum,
    "string": _encode_string,
    "ipv4": _encode_address(socket.AF_INET),
    "ipv6": _encode_address(socket.AF_INET6),
    "float": _encode_float,
}


def _declared_type(decl: ParameterDecl, layout: Layout) -> str:
    """`duration in us`, `signal-set`, `list of signal`: a declared type as messages show it;
    an int or a string by its C type (`pid_t`, `char[16]`), which says its range or size."""
    if decl.type in ("int", "string"):
        return type_name(layout)
    if decl.type == "duration":
        return f"duration in {decl.unit}"
    return f"list of {decl.items or 'int'}" if decl.type == "list" else decl.type


def _encode_signal(_decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    return _int_bytes(layout, paramvalues.parse_signal(text), layout.kind == "int")


def _encode_signal_set(decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    mask = paramvalues.parse_signal_set(text, decl.bit or "signal", 8 * layout.size)
    return mask.to_bytes(layout.size, "little")  # a bit pattern, whatever the C signedness


def _encode_duration(decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    return _int_bytes(
        layout, paramvalues.parse_duration(text, decl.unit or "ns"), layout.kind == "int"
    )


def _encode_named(decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    if decl.values is None:
        return _encode_enum(layout, text)
    value = paramvalues.parse_named(text, decl.values)
    return _int_bytes(layout, value % (1 << 8 * layout.size), False)


def _encode_list(decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    element = layout.element
    assert element is not None  # noqa: S101 - `unfit` checked it is an array
    words = [w.strip() for w in text.split(",")] if text.strip() else []
    if len(words) > layout.length:
        raise ValueError(f"{len(words)} values given; accepted: at most {layout.length}")
    item = ParameterDecl(decl.name, decl.description, decl.items or "int")
    encode = _TYPED[item.type]
    encoded = b"".join(encode(item, element, word) for word in words)
    return encoded.ljust(layout.size, b"\0")


def _by_layout(_decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    return _ENCODERS[layout.kind](layout, text)  # `unfit` checked it is one of them


def _encode_declared_bool(_decl: ParameterDecl, layout: Layout, text: str) -> bytes:
    return _encode_bool(layout, text)


_TYPED: dict[str, Callable[[ParameterDecl, Layout, str], bytes]] = {
    "int": _by_layout,
    "string": _by_layout,
    "bool": _encode_declared_bool,
    "enum": _encode_named,
    "signal": _encode_signal,
    "signal-set": _encode_signal_set,
    "duration": _encode_duration,
    "list": _encode_list,
}
