"""ctypes binding to the system's libbpf.so.1 (1.1 or later), limited to what the loader uses.

Functions keep their C names and signatures so they read like libbpf's documentation. Handles
(objects, programs, maps, links, buffers, BTF) are opaque pointers, seen from Python as ints.
libbpf 1.x reports errors in two ways: pointer returns are NULL with errno set (read it with
ctypes.get_errno(), the library is loaded with use_errno), int returns are a negative errno;
`check_ptr` and `check_int` turn both into a LoaderError.

Importing this module loads the library: without it the import raises LibbpfMissingError, which
`run` reports as its error line and `doctor` as a "no" line. `EBPF_HUB_LIBBPF` names the
library to load instead (a path, or a soname the dynamic linker finds).
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import Any

from ebpf_hub.errors import LibbpfMissingError
from ebpf_hub.run.errors import LoaderError

LIBBPF_ENV = "EBPF_HUB_LIBBPF"
LIBRARY = os.environ.get(LIBBPF_ENV) or "libbpf.so.1"

try:
    _lib = ctypes.CDLL(LIBRARY, use_errno=True)
except OSError as exc:
    raise LibbpfMissingError(
        f"cannot load libbpf: {exc}",
        hint=f"install libbpf 1.1 or later (Debian and Ubuntu: libbpf1), or set {LIBBPF_ENV}",
    ) from None
_libc = ctypes.CDLL(None, use_errno=True)

c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_size_t = ctypes.c_size_t


def describe_error(err: int) -> str:
    """'EPERM (Operation not permitted)'; libbpf's own codes (4000+) get libbpf's text."""
    buf = ctypes.create_string_buffer(256)
    _libbpf_strerror(err, buf, len(buf))
    text = buf.value.decode(errors="replace")
    name = errno.errorcode.get(err)
    return f"{name} ({text})" if name else text


def check_int(ret: int, what: str) -> int:
    """libbpf's int results: non-negative, or a negative errno."""
    if ret < 0:
        raise LoaderError(f"{what}: {describe_error(-ret)}")
    return ret


def check_ptr(ptr: int | None, what: str) -> int:
    """libbpf's pointer results: non-NULL, or NULL with errno set."""
    if not ptr:
        raise LoaderError(f"{what}: {describe_error(ctypes.get_errno() or errno.EINVAL)}")
    return ptr


def _fn(name: str, restype: Any, *argtypes: Any) -> Callable[..., Any]:
    func = getattr(_lib, name)
    func.restype = restype
    func.argtypes = argtypes
    return func  # type: ignore[no-any-return]


# --- structures (layouts of libbpf 1.1's headers; `sz` lets newer libbpf accept them) ---


class _Opts(ctypes.Structure):
    """Base of libbpf's option structs: a new instance has `sz` set and the rest zeroed."""

    def __init__(self, **fields: Any) -> None:
        super().__init__(sz=ctypes.sizeof(self), **fields)


class BpfUprobeOpts(_Opts):
    _fields_ = (
        ("sz", c_size_t),
        ("ref_ctr_offset", c_size_t),
        ("bpf_cookie", ctypes.c_uint64),
        ("retprobe", ctypes.c_bool),
        ("func_name", c_char_p),
    )


class BpfTcHook(_Opts):
    _fields_ = (
        ("sz", c_size_t),
        ("ifindex", c_int),
        ("attach_point", c_int),
        ("parent", c_uint),
    )


class BpfTcOpts(_Opts):
    _fields_ = (
        ("sz", c_size_t),
        ("prog_fd", c_int),
        ("flags", c_uint),
        ("prog_id", c_uint),
        ("handle", c_uint),
        ("priority", c_uint),
    )


class BpfProgLoadOpts(_Opts):
    _fields_ = (
        ("sz", c_size_t),
        ("attempts", c_int),
        ("expected_attach_type", c_int),
        ("prog_btf_fd", c_uint),
        ("prog_flags", c_uint),
        ("prog_ifindex", c_uint),
        ("kern_version", c_uint),
        ("attach_btf_id", c_uint),
        ("attach_prog_fd", c_uint),
        ("attach_btf_obj_fd", c_uint),
        ("fd_array", c_void_p),
        ("func_info", c_void_p),
        ("func_info_cnt", c_uint),
        ("func_info_rec_size", c_uint),
        ("line_info", c_void_p),
        ("line_info_cnt", c_uint),
        ("line_info_rec_size", c_uint),
        ("log_level", c_uint),
        ("log_size", c_uint),
        ("log_buf", c_void_p),
    )


class BtfType(ctypes.Structure):
    """struct btf_type: `info` holds vlen (bits 0-15) and kind (bits 24-28)."""

    _fields_ = (("name_off", c_uint), ("info", c_uint), ("size_or_type", c_uint))


class BtfVarSecinfo(ctypes.Structure):
    """One variable of a BTF DATASEC; an array of them follows the DATASEC's BtfType."""

    _fields_ = (("type", c_uint), ("offset", c_uint), ("size", c_uint))


# --- constants ---

BTF_KIND_TYPEDEF = 8
BTF_KIND_FUNC = 12
BTF_KIND_DATASEC = 15
BPF_TC_INGRESS = 1 << 0
BPF_TC_EGRESS = 1 << 1
BPF_TCX_INGRESS = 46  # enum bpf_attach_type, kernel 6.6+; newer than libbpf 1.1's headers
LIBBPF_WARN, LIBBPF_INFO, LIBBPF_DEBUG = 0, 1, 2

# --- callbacks ---

RING_BUFFER_SAMPLE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
PERF_BUFFER_SAMPLE_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_void_p, ctypes.c_uint32)
PERF_BUFFER_LOST_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, ctypes.c_uint64)
# va_list is passed as a pointer on x86-64 and arm64, which is all vasprintf needs.
_PRINT_FN = ctypes.CFUNCTYPE(c_int, c_int, c_char_p, c_void_p)

# --- functions ---

bpf_object__open_file = _fn("bpf_object__open_file", c_void_p, c_char_p, c_void_p)
bpf_object__load = _fn("bpf_object__load", c_int, c_void_p)
bpf_object__close = _fn("bpf_object__close", None, c_void_p)
bpf_object__next_program = _fn("bpf_object__next_program", c_void_p, c_void_p, c_void_p)
bpf_object__next_map = _fn("bpf_object__next_map", c_void_p, c_void_p, c_void_p)
bpf_object__find_map_by_name = _fn("bpf_object__find_map_by_name", c_void_p, c_void_p, c_char_p)
bpf_object__btf = _fn("bpf_object__btf", c_void_p, c_void_p)
bpf_prog_load = _fn(
    "bpf_prog_load",
    c_int,
    c_int,
    c_char_p,
    c_char_p,
    c_char_p,
    c_size_t,
    ctypes.POINTER(BpfProgLoadOpts),
)

bpf_program__name = _fn("bpf_program__name", c_char_p, c_void_p)
bpf_program__section_name = _fn("bpf_program__section_name", c_char_p, c_void_p)
bpf_program__type = _fn("bpf_program__type", c_int, c_void_p)
bpf_program__fd = _fn("bpf_program__fd", c_int, c_void_p)
bpf_program__set_autoload = _fn("bpf_program__set_autoload", c_int, c_void_p, ctypes.c_bool)
bpf_program__attach = _fn("bpf_program__attach", c_void_p, c_void_p)
bpf_program__attach_uprobe_opts = _fn(
    "bpf_program__attach_uprobe_opts",
    c_void_p,
    c_void_p,
    c_int,
    c_char_p,
    c_size_t,
    ctypes.POINTER(BpfUprobeOpts),
)
bpf_program__attach_xdp = _fn("bpf_program__attach_xdp", c_void_p, c_void_p, c_int)
bpf_program__attach_cgroup = _fn("bpf_program__attach_cgroup", c_void_p, c_void_p, c_int)
bpf_link__destroy = _fn("bpf_link__destroy", c_int, c_void_p)
bpf_link_create = _fn("bpf_link_create", c_int, c_int, c_int, c_int, c_void_p)

bpf_tc_hook_create = _fn("bpf_tc_hook_create", c_int, ctypes.POINTER(BpfTcHook))
bpf_tc_hook_destroy = _fn("bpf_tc_hook_destroy", c_int, ctypes.POINTER(BpfTcHook))
bpf_tc_attach = _fn("bpf_tc_attach", c_int, ctypes.POINTER(BpfTcHook), ctypes.POINTER(BpfTcOpts))
bpf_tc_detach = _fn("bpf_tc_detach", c_int, ctypes.POINTER(BpfTcHook), ctypes.POINTER(BpfTcOpts))

bpf_map__name = _fn("bpf_map__name", c_char_p, c_void_p)
bpf_map__type = _fn("bpf_map__type", c_int, c_void_p)
bpf_map__key_size = _fn("bpf_map__key_size", c_uint, c_void_p)
bpf_map__value_size = _fn("bpf_map__value_size", c_uint, c_void_p)
bpf_map__max_entries = _fn("bpf_map__max_entries", c_uint, c_void_p)
bpf_map__fd = _fn("bpf_map__fd", c_int, c_void_p)
bpf_map__initial_value = _fn("bpf_map__initial_value", c_void_p, c_void_p, ctypes.POINTER(c_size_t))
bpf_map_get_next_key = _fn("bpf_map_get_next_key", c_int, c_int, c_void_p, c_void_p)
bpf_map_lookup_elem = _fn("bpf_map_lookup_elem", c_int, c_int, c_void_p, c_void_p)
bpf_map_update_elem = _fn("bpf_map_update_elem", c_int, c_int, c_void_p, c_void_p, ctypes.c_uint64)

btf__find_by_name_kind = _fn("btf__find_by_name_kind", c_int, c_void_p, c_char_p, c_uint)
btf__type_by_id = _fn("btf__type_by_id", ctypes.POINTER(BtfType), c_void_p, c_uint)
btf__name_by_offset = _fn("btf__name_by_offset", c_char_p, c_void_p, c_uint)
btf__load_vmlinux_btf = _fn("btf__load_vmlinux_btf", c_void_p)

ring_buffer__new = _fn(
    "ring_buffer__new", c_void_p, c_int, RING_BUFFER_SAMPLE_FN, c_void_p, c_void_p
)
ring_buffer__poll = _fn("ring_buffer__poll", c_int, c_void_p, c_int)
ring_buffer__consume = _fn("ring_buffer__consume", c_int, c_void_p)
ring_buffer__free = _fn("ring_buffer__free", None, c_void_p)
ring_buffer__epoll_fd = _fn("ring_buffer__epoll_fd", c_int, c_void_p)
perf_buffer__new = _fn(
    "perf_buffer__new",
    c_void_p,
    c_int,
    c_size_t,
    PERF_BUFFER_SAMPLE_FN,
    PERF_BUFFER_LOST_FN,
    c_void_p,
    c_void_p,
)
perf_buffer__poll = _fn("perf_buffer__poll", c_int, c_void_p, c_int)
perf_buffer__consume = _fn("perf_buffer__consume", c_int, c_void_p)
perf_buffer__free = _fn("perf_buffer__free", None, c_void_p)
perf_buffer__epoll_fd = _fn("perf_buffer__epoll_fd", c_int, c_void_p)

libbpf_num_possible_cpus = _fn("libbpf_num_possible_cpus", c_int)
libbpf_probe_bpf_prog_type = _fn("libbpf_probe_bpf_prog_type", c_int, c_int, c_void_p)
libbpf_probe_bpf_helper = _fn("libbpf_probe_bpf_helper", c_int, c_int, c_int, c_void_p)
libbpf_probe_bpf_map_type = _fn("libbpf_probe_bpf_map_type", c_int, c_int, c_void_p)
libbpf_bpf_prog_type_str = _fn("libbpf_bpf_prog_type_str", c_char_p, c_int)
libbpf_bpf_map_type_str = _fn("libbpf_bpf_map_type_str", c_char_p, c_int)
libbpf_bpf_attach_type_str = _fn("libbpf_bpf_attach_type_str", c_char_p, c_int)
libbpf_version_string = _fn("libbpf_version_string", c_char_p)
_libbpf_strerror = _fn("libbpf_strerror", c_int, c_int, c_char_p, c_size_t)
_libbpf_set_print = _fn("libbpf_set_print", c_void_p, _PRINT_FN)

_vasprintf = _libc.vasprintf
_vasprintf.restype = c_int
_vasprintf.argtypes = (ctypes.POINTER(c_void_p), c_char_p, c_void_p)
_free = _libc.free
_free.restype = None
_free.argtypes = (c_void_p,)


def type_names(to_str: Callable[..., Any]) -> dict[str, int]:
    """Map libbpf's names of an enum (`libbpf_bpf_prog_type_str` or `..._map_type_str`)
    to their values; libbpf returns NULL past the last value it knows."""
    names: dict[str, int] = {}
    value = 0
    while (name := to_str(value)) is not None:
        names[name.decode()] = value
        value += 1
    return names


_print_hook: list[Any] = []  # keeps the installed C callback alive


def set_print(handler: Callable[[int, str], None], max_level: int = LIBBPF_WARN) -> None:
    """Send every libbpf message up to `max_level` to handler(level, text), process-wide.

    The message arrives as printf format + va_list, so libc's vasprintf formats it: this copes
    with verifier logs of any length in one call.
    """

    def _print(level: int, fmt: bytes, args: int | None) -> int:
        if level > max_level:
            return 0
        out = c_void_p()
        length = _vasprintf(ctypes.byref(out), fmt, args)
        if length < 0:
            return 0
        try:
            handler(level, ctypes.string_at(out, length).decode(errors="replace"))
        finally:
            _free(out)
        return 0

    callback = _PRINT_FN(_print)
    _libbpf_set_print(callback)
    _print_hook[:] = [callback]
