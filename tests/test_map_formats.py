"""Declared formats of output maps (issue #15): a real package, built and run on this kernel.

tests/data/formats/mapprobe counts its target's openat() returns in three maps: `syscalls`
(a counter keyed by the syscall number the kernel reports), `calls` (a table keyed by a
struct: an IP protocol and the result as an unsigned number) and `results` (a histogram
per result). Built with `ebpf-hub build DIR`, the formats travel in the artifact config.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import socket
from pathlib import Path

import pytest

from ebpf_hub.formats.sets import enum_set, host_arch
from hubrepo import REPO
from test_metrics import get, metrics_url
from test_run import build_edited, built_dir, own_pid_run

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

PROBE = REPO / "tests" / "data" / "formats" / "mapprobe"
MISSING = "/nonexistent-ebpf-hub-map-format-test"
OPENAT = {"x86_64": 257, "aarch64": 56}[platform.machine()]
ENOENT_U32 = 2**32 - 2  # -ENOENT in the key's __u32


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mapprobe as `ebpf-hub build DIR` leaves it: its object and config.json."""
    return built_dir(PROBE, tmp_path_factory.mktemp("built") / "mapprobe")


def _open_missing_and_devnull() -> None:
    with contextlib.suppress(FileNotFoundError):
        os.close(os.open(MISSING, os.O_RDONLY))
    os.close(os.open(os.devnull, os.O_RDONLY))


def test_map_keys_print_as_names_in_tables_histograms_and_metrics(built: Path) -> None:
    with own_pid_run(built, "--metrics", "127.0.0.1:0") as run:
        _open_missing_and_devnull()
        exposition = get(metrics_url(run)).decode()
        run.stop()
    text = "".join(run.out)
    # The counter keyed by a syscall number: the name, under the declared title.
    assert "SYSCALL  COUNT\nopenat   " in text
    # The struct key: an enum of a named set and an errno read from a __u32.
    table = text.split("Calls by protocol and errno\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[0].split() == ["PROTO", "ERR", "CALLS", "TOTAL_NS"]
    failed = next(row.split() for row in table if " ENOENT " in row)
    assert failed[0] == "TCP" and failed[3].endswith("ms") and failed[2].isdigit()
    assert str(ENOENT_U32) not in text
    # The histogram's key lines, one per result: the errno's name, an fd as a number.
    assert "key = ENOENT\n" in text
    # Prometheus labels carry the same text; the numbers stay numbers.
    assert 'key="openat"' in exposition and f'key="{OPENAT}"' not in exposition
    assert 'err="ENOENT",proto="TCP"' in exposition


def test_json_keeps_raw_keys_and_values_and_adds_the_formatted_text(built: Path) -> None:
    with own_pid_run(built, "--json") as run:
        _open_missing_and_devnull()
        run.stop()
    [syscalls] = run.maps("syscalls")
    [openat] = [e for e in syscalls["entries"] if e["key"] == OPENAT]
    assert openat["formatted"] == {"key": "openat"} and openat["value"] >= 2
    [calls] = run.maps("calls")
    failed = next(e for e in calls["entries"] if e["key"]["err"] == ENOENT_U32)
    assert failed["key"] == {"proto": 6, "err": ENOENT_U32}
    assert failed["formatted"] == {
        "proto": "TCP",
        "err": "ENOENT",
        "total_ns": failed["formatted"]["total_ns"],
    }
    assert failed["formatted"]["total_ns"].endswith("ms")
    [results] = run.maps("results")
    entry = next(e for e in results["entries"] if e["key"] == ENOENT_U32)
    assert entry["formatted"] == {"key": "ENOENT"} and entry["buckets"]


def test_raw_prints_map_keys_as_the_kernel_wrote_them(built: Path) -> None:
    with own_pid_run(built, "--raw") as run:
        _open_missing_and_devnull()
        run.stop()
    text = "".join(run.out)
    assert f"KEY  COUNT\n{OPENAT}  " in text
    assert f"key = {ENOENT_U32}\n" in text and "ENOENT" not in text


def test_build_refuses_map_formats_that_do_not_fit_the_map(tmp_path: Path) -> None:

    def edit(text: str) -> str:
        text = text.replace(
            "        key: {format: syscall, title: SYSCALL}\n", "        kye: syscall\n"
        )
        text = text.replace(
            "        total_ns: duration\n", "        total_ns: ip\n        calls: hidden\n"
        )
        return text.replace("        key: errno\n", "        key: errno\n        slots: bytes\n")

    manifest, result = build_edited(PROBE, tmp_path, edit)
    assert result.returncode != 0
    error = result.stderr
    assert (
        "mapprobe.bpf.o: output.maps[0].fields.kye: no field 'kye' in map 'syscalls' (key "
        "__u32: name it `key`; value __u64: name it `value`)"
    ) in error
    assert (
        "output.maps[1].fields.total_ns: ip needs an address field (4 or 16 bytes: __u32, "
        "__u8[16], __u32[4], ipv4/ipv6_addr_t), but 'total_ns' is __u64"
    ) in error
    assert "output.maps[2].fields.slots: the value of histogram 'results' prints as bars" in error
    assert "fields.calls" not in error  # hidden fits any field
    assert str(manifest) in error or "ebpf-hub.yaml" in error


def test_the_softirq_set_is_the_kernels_own_naming() -> None:
    """The `softirq` set (read from the kernel's BTF) names each vector as the kernel's
    softirq_entry tracepoint prints it (softirq_to_name[])."""
    names = enum_set("softirq", host_arch())
    fmt = Path("/sys/kernel/tracing/events/irq/softirq_entry/format").read_text()
    printed = {name: int(number) for number, name in re.findall(r'\{ (\d+), "(\w+)" \}', fmt)}
    assert names == printed
    assert enum_set("ip_protocol", host_arch())["TCP"] == socket.IPPROTO_TCP
