"""The named value sets of event formats: syscall tables, flag and enum sets per architecture.

They live in data.json, generated from the Linux UAPI headers by scripts/gen-format-data
(never typed by hand); errno names come from Python's errno module, which holds Linux's
(signal names from `ebpf_hub.signames`, shared with typed parameters). The file is read
once, when a package first asks for a set.
"""

from __future__ import annotations

import errno
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Final

from ebpf_hub.model.outputformat import FieldFormat

DATA_FILE: Final = Path(__file__).with_name("data.json")
# `uname -m` spellings of the architectures the data covers.
_ARCH_ALIASES: Final = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
}


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def host_arch() -> str:
    """The architecture whose tables apply to programs running here (x86_64 when unknown:
    the tables then only mislabel syscall numbers, never fail)."""
    return _ARCH_ALIASES.get(os.uname().machine, "x86_64")


def flag_sets() -> frozenset[str]:
    return frozenset(_data()["flags"]["x86_64"])


def enum_sets() -> frozenset[str]:
    return frozenset(_data()["enums"]["x86_64"])


def flag_set(name: str, arch: str) -> dict[str, int]:
    """Name -> bit(s) of the named flag set on `arch`."""
    found: dict[str, int] = _data()["flags"][arch][name]
    return found


def enum_set(name: str, arch: str) -> dict[str, int]:
    """Name -> value of the named enum set on `arch`."""
    found: dict[str, int] = _data()["enums"][arch][name]
    return found


def syscall_names(arch: str) -> dict[int, str]:
    """Syscall number -> name on `arch`."""
    return {int(number): name for number, name in _data()["syscalls"][arch].items()}


def errno_names() -> dict[int, str]:
    return dict(errno.errorcode)


def value_names(spec: FieldFormat, arch: str) -> dict[str, int]:
    """The name -> number table of a flags or enum format: inline, or a named set."""
    if spec.values is not None:
        return dict(spec.values)
    if spec.set is None:
        return {}
    if spec.format == "flags":
        return flag_set(spec.set, arch)
    return enum_set(spec.set, arch)
