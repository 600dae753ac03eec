"""Ask the kernel what it supports, by loading trivial programs and creating tiny maps.

A kernel's version says little: distributions backport features and lockdown or sysctls
take them away. Loading the smallest program of a type (`r0 = 0; exit`) and closing it at
once is the only reliable answer, and it is what libbpf's own probes do.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.errors import LoaderError
from ebpf_hub.run.libbpf import check_int

# BPF_MOV64_IMM(BPF_REG_0, 0); BPF_EXIT_INSN(): "r0 = 0; exit"
_RETURN_ZERO = bytes.fromhex("b7000000000000009500000000000000")
_UNPROBEABLE = frozenset({"tracing", "lsm", "ext", "struct_ops"})
_BTF_KINDS = {"func": lib.BTF_KIND_FUNC, "typedef": lib.BTF_KIND_TYPEDEF}


@functools.cache
def _names(kind: str) -> dict[str, int]:
    to_str = {
        "program": lib.libbpf_bpf_prog_type_str,
        "map": lib.libbpf_bpf_map_type_str,
        "attach": lib.libbpf_bpf_attach_type_str,
    }[kind]
    return lib.type_names(to_str)


def _type_id(kind: str, name: str) -> int:
    try:
        return _names(kind)[name]
    except KeyError:
        known = ", ".join(sorted(_names(kind)))
        raise LoaderError(f"unknown {kind} type {name!r}; libbpf knows: {known}") from None


def libbpf_version() -> str:
    """The version of the libbpf.so.1 in use, e.g. 'v1.1'."""
    version: bytes = lib.libbpf_version_string()
    return version.decode()


def probe_prog_type(name: str) -> bool:
    """Whether the kernel loads programs of a type named as libbpf names them ('xdp',
    'tracepoint', 'sched_cls', ...). Types that need an attach target (fentry/fexit are
    'tracing') cannot be probed this way: use probe_btf_attach()."""
    if name in _UNPROBEABLE:
        raise LoaderError(f"libbpf cannot probe {name!r} programs: use probe_btf_attach()")
    ret = lib.libbpf_probe_bpf_prog_type(_type_id("program", name), None)
    return check_int(ret, f"probing program type {name}") == 1


def probe_helper(prog_type: str, helper_id: int) -> bool:
    """Whether programs of `prog_type` may call helper number `helper_id` (enum bpf_func_id)."""
    ret = lib.libbpf_probe_bpf_helper(_type_id("program", prog_type), helper_id, None)
    return check_int(ret, f"probing helper {helper_id} for {prog_type}") == 1


def probe_map_type(name: str) -> bool:
    """Whether the kernel creates maps of a type ('ringbuf', 'percpu_hash', ...)."""
    ret = lib.libbpf_probe_bpf_map_type(_type_id("map", name), None)
    return check_int(ret, f"probing map type {name}") == 1


@functools.cache
def _vmlinux_btf() -> int | None:
    """The kernel's BTF parsed by libbpf (kept for the life of the process), or None."""
    return lib.btf__load_vmlinux_btf() or None


def vmlinux_type_id(name: str, kind: str) -> int | None:
    """The id of a 'func' or 'typedef' named `name` in the kernel's BTF, if it has one."""
    btf = _vmlinux_btf()
    if btf is None:
        return None
    type_id: int = lib.btf__find_by_name_kind(btf, name.encode(), _BTF_KINDS[kind])
    return type_id if type_id > 0 else None


def probe_btf_attach(prog_type: str, attach_type: str, btf_id: int) -> int:
    """Load a trivial `prog_type` program bound to kernel BTF type `btf_id` with
    `attach_type` (fentry is 'tracing' + 'trace_fentry' + a function's id) and unload it.
    Returns 0 when the kernel accepts it, else the errno it refused with (EPERM under a
    lockdown that forbids BPF trampolines)."""
    opts = lib.BpfProgLoadOpts(
        expected_attach_type=_type_id("attach", attach_type), attach_btf_id=btf_id
    )
    fd: int = lib.bpf_prog_load(
        _type_id("program", prog_type),
        b"ebh_probe",
        b"GPL",
        _RETURN_ZERO,
        len(_RETURN_ZERO) // 8,
        ctypes.byref(opts),
    )
    if fd < 0:
        return -fd or errno.EINVAL
    os.close(fd)
    return 0
