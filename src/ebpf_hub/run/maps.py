"""Loaded maps, read through their file descriptors: keys, lookups, (key, value) pairs."""

from __future__ import annotations

import ctypes
import errno
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.errors import LoaderError
from ebpf_hub.run.libbpf import check_int

_PER_CPU_MAPS = frozenset(
    {"percpu_hash", "percpu_array", "lru_percpu_hash", "percpu_cgroup_storage"}
)
EVENT_MAPS = frozenset({"ringbuf", "perf_event_array"})


@dataclass(frozen=True)
class MapInfo:
    name: str
    type: str  # libbpf's name of the map type: 'hash', 'percpu_array', 'ringbuf', ...
    key_size: int
    value_size: int
    max_entries: int

    @property
    def per_cpu(self) -> bool:
        return self.type in _PER_CPU_MAPS


MapValue = Union[bytes, list[bytes]]
"""A map value: bytes, or for a per-CPU map one bytes value per possible CPU."""


def text(value: bytes | None) -> str:
    """A name libbpf returned, or '?' for NULL."""
    return value.decode(errors="replace") if value is not None else "?"


def map_info(map_ptr: int) -> MapInfo:
    return MapInfo(
        name=text(lib.bpf_map__name(map_ptr)),
        type=text(lib.libbpf_bpf_map_type_str(lib.bpf_map__type(map_ptr))),
        key_size=lib.bpf_map__key_size(map_ptr),
        value_size=lib.bpf_map__value_size(map_ptr),
        max_entries=lib.bpf_map__max_entries(map_ptr),
    )


@functools.cache
def possible_cpus() -> int:
    """Per-CPU maps hold one value for each possible CPU, online or not."""
    return check_int(lib.libbpf_num_possible_cpus(), "counting possible CPUs")


class Map:
    """A loaded map, read through its fd: keys, lookups and (key, value) pairs as bytes."""

    def __init__(self, map_ptr: int) -> None:
        self.info = map_info(map_ptr)
        self.fd: int = lib.bpf_map__fd(map_ptr)
        if self.fd < 0:
            raise LoaderError(f"map {self.info.name!r} is not loaded yet")
        if self.info.type in EVENT_MAPS:
            raise LoaderError(f"map {self.info.name!r} holds events: read it with events()")

    def keys(self) -> Iterator[bytes]:
        """Every key, in the kernel's order; stops after max_entries keys, so a hash map that
        changes under us cannot make this loop forever."""
        key: ctypes.Array[ctypes.c_char] | None = None
        for _ in range(self.info.max_entries):
            next_key = ctypes.create_string_buffer(self.info.key_size)
            ret = lib.bpf_map_get_next_key(self.fd, key, next_key)
            if ret == -errno.ENOENT:
                return
            check_int(ret, f"iterating map {self.info.name}")
            yield next_key.raw
            key = next_key

    def lookup(self, key: bytes) -> MapValue | None:
        """The value under `key` (None if absent); per-CPU maps give one value per CPU."""
        if len(key) != self.info.key_size:
            raise LoaderError(
                f"map {self.info.name!r} keys are {self.info.key_size} bytes, got {len(key)}"
            )
        stride = self.info.value_size
        cpus = 1
        if self.info.per_cpu:
            stride = (stride + 7) & ~7  # the kernel lays per-CPU values out 8-byte aligned
            cpus = possible_cpus()
        value = ctypes.create_string_buffer(stride * cpus)
        ret = lib.bpf_map_lookup_elem(self.fd, key, value)
        if ret == -errno.ENOENT:
            return None
        check_int(ret, f"reading map {self.info.name}")
        raw = value.raw
        if not self.info.per_cpu:
            return raw
        return [raw[cpu * stride : cpu * stride + self.info.value_size] for cpu in range(cpus)]

    def items(self) -> Iterator[tuple[bytes, MapValue]]:
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:  # deleted between the two calls
                yield key, value
