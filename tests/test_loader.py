"""The loader against the real kernel: BPF C from tests/data/loader compiled with clang, loaded
as root, attached, fed real events and packets, then checked gone with bpftool."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.errors import HubError
from ebpf_hub.run.attach import AttachTargets, attach_tc_clsact
from ebpf_hub.run.errors import AttachError, LoaderError, LoadError
from ebpf_hub.run.host import has_kernel_btf, has_kprobes, kernel_version
from ebpf_hub.run.loader import LoadedObject
from ebpf_hub.run.probes import probe_helper, probe_map_type, probe_prog_type
from kernelstate import assert_gone, held_prog_ids, links_of, prog_ids, wait_for
from vethpair import VethPair, netns, send_udp, veth_pair

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "loader"
INCLUDE = ROOT / "src" / "ebpf_hub" / "build" / "include"
BPF_FUNC_MAP_LOOKUP_ELEM = 1


BPF_CFLAGS = "-target bpf -O2 -g -D__TARGET_ARCH_x86"


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test program compiled once: BPF objects and two user binaries. vmlinux.h is
    precompiled first (parsing its 130k lines is most of a compile), then clang runs in
    parallel."""
    out = tmp_path_factory.mktemp("loader")
    vmlinux = subprocess.run(
        ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
        check=True,
        capture_output=True,
    ).stdout
    (out / "vmlinux.h").write_bytes(vmlinux)
    commands = [
        f"gcc -O0 -o {out}/uprobe_target {DATA}/uprobe_target.c",
        f"gcc -O2 -o {out}/openat_loop {DATA}/openat_loop.c",
        f"clang {BPF_CFLAGS} -x c-header {out}/vmlinux.h -o {out}/vmlinux.h.pch",
    ]
    _run_all(commands)
    _run_all(
        [
            f"clang {BPF_CFLAGS} '-DTARGET_BIN=\"{out}/uprobe_target\"' -include-pch "
            f"{out}/vmlinux.h.pch -I{out} -I{INCLUDE} -c {source} -o {out}/{source.stem}.o"
            f" && llvm-strip -g {out}/{source.stem}.o"
            for source in sorted(DATA.glob("*.bpf.c"))
        ]
    )
    return out


def _run_all(commands: list[str]) -> None:
    jobs = [(c, subprocess.Popen(c, shell=True, stderr=subprocess.PIPE)) for c in commands]  # noqa: S602
    for command, job in jobs:
        _, err = job.communicate()
        assert job.returncode == 0, f"{command}: {err.decode()}"


# --- tracepoint, ring buffer, perf buffer, parameters ---

Exec = tuple[int, int, int, bytes]  # pid, ppid, tag, comm


def decode_exec(record: bytes) -> Exec:
    pid, ppid, tag, comm = struct.unpack("<III16s", record)
    return pid, ppid, tag, comm.rstrip(b"\0")


def run_execs(count: int) -> list[int]:
    """Run /bin/true `count` times directly and once through sh (a grandchild)."""
    pids = []
    for _ in range(count):
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        pids.append(child.pid)
    subprocess.run(["sh", "-c", "/bin/true; /bin/true"], check=True)
    return pids


def test_tracepoint_ring_and_perf_buffers_then_nothing_left(build: Path) -> None:
    ring: list[Exec] = []
    perf: list[Exec] = []
    with LoadedObject.open(build / "exec_events.bpf.o") as obj:
        assert [(p.name, p.type) for p in obj.programs()] == [("ebh_exec", "tracepoint")]
        obj.load()
        obj.attach_all()
        ours = held_prog_ids()
        links = links_of(ours)
        assert links, "the tracepoint is attached through a bpf link"
        ring_buffer = obj.events("events", lambda r: ring.append(decode_exec(r)))
        perf_buffer = obj.events("perf_events", lambda r: perf.append(decode_exec(r)))
        pids = run_execs(3)
        wait_for(lambda: ring_buffer.poll(50) >= 0 and {p for p, *_ in ring} >= set(pids))
        wait_for(lambda: perf_buffer.poll(50) >= 0 and {p for p, *_ in perf} >= set(pids))
        assert perf_buffer.lost == 0
    mine = [e for e in ring if e[0] in pids]
    assert all(ppid == os.getpid() and comm == b"true" and tag == 0 for _, ppid, tag, comm in mine)
    assert any(ppid != os.getpid() and comm == b"true" for _, ppid, _, comm in ring), (
        "without target_ppid the grandchildren are recorded too"
    )
    assert_gone(ours, links)


def test_rodata_parameters_filter_and_tag_records(build: Path) -> None:
    params = {"target_ppid": struct.pack("<I", os.getpid()), "tag": struct.pack("<I", 0xE4B)}
    ring: list[Exec] = []
    with LoadedObject.open(build / "exec_events.bpf.o", params) as obj:
        obj.load()
        obj.attach_all()
        events = obj.events("events", lambda r: ring.append(decode_exec(r)))
        pids = run_execs(2)
        wait_for(lambda: events.poll(50) >= 0 and {p for p, *_ in ring} >= set(pids))
        time.sleep(0.05)
        events.consume()
    assert ring
    assert {(ppid, tag) for _, ppid, tag, _ in ring} == {(os.getpid(), 0xE4B)}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"nope": b"\0\0\0\0"}, "unknown parameter 'nope'; known: tag, target_ppid"),
        ({"tag": b"\0\0"}, "parameter 'tag' takes 4 bytes, got 2"),
    ],
)
def test_bad_parameters_are_refused_at_open(
    build: Path, params: dict[str, bytes], message: str
) -> None:
    with pytest.raises(LoaderError, match=message):
        LoadedObject.open(build / "exec_events.bpf.o", params)


def test_callback_exception_surfaces_from_poll(build: Path) -> None:
    def explode(record: bytes) -> None:
        raise RuntimeError("callback failed")

    with LoadedObject.open(build / "exec_events.bpf.o") as obj:
        obj.load()
        obj.attach_all()
        events = obj.events("events", explode)
        run_execs(1)
        with pytest.raises(RuntimeError, match="callback failed"):
            events.poll(1000)


SIGINT_SCRIPT = """
import signal, sys
from ebpf_hub.run.loader import LoadedObject
# Python leaves SIGINT ignored if it started so (pytest run as a background job): undo that.
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    with LoadedObject.open(sys.argv[1]) as obj:
        obj.load()
        obj.attach_all()
        events = obj.events("events", lambda record: None)
        print("ready", flush=True)
        while True:
            events.poll(1000)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.stdin.read()
"""


def test_sigint_during_poll_detaches_everything(build: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SIGINT_SCRIPT, str(build / "exec_events.bpf.o")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin and child.stdout
    watchdog = threading.Timer(20, child.kill)  # a hung child ends the readline()s below
    watchdog.start()
    try:
        assert child.stdout.readline() == "ready\n"
        ours = held_prog_ids(child.pid)
        links = links_of(ours)
        assert links
        child.send_signal(signal.SIGINT)
        assert child.stdout.readline() == "interrupted\n"
        assert_gone(ours, links)  # the process still runs: close() did it, not the exit
    finally:
        watchdog.cancel()
        child.stdin.close()
        child.wait(timeout=10)


# --- uprobes ---


def test_uprobes_by_section_and_by_explicit_symbol(build: Path) -> None:
    target = build / "uprobe_target"
    records: list[tuple[int, int, int]] = []
    targets = AttachTargets(uprobe=f"{target}:ebh_target_fn")
    with LoadedObject.open(build / "uprobe.bpf.o", targets=targets) as obj:
        obj.load()
        obj.attach_all()
        ours = held_prog_ids()
        links = links_of(ours)
        events = obj.events("events", lambda r: records.append(struct.unpack("<IIq", r)))
        child = subprocess.run([target], check=True, capture_output=True, text=True)
        assert child.stdout == "42\n"
        wait_for(lambda: events.poll(50) >= 0 and len(records) >= 3)
    assert len(links) == 3
    pids = {pid for pid, _, _ in records}
    assert len(pids) == 1
    assert sorted((kind, value) for _, kind, value in records) == [(1, 21), (2, 42), (3, 21)]
    assert_gone(ours, links)


def test_bare_uprobe_without_target_fails_before_load(build: Path) -> None:
    with pytest.raises(AttachError, match=r"'ebh_uprobe_x' \(uprobe\).*--uprobe BINARY:SYMBOL"):
        LoadedObject.open(build / "uprobe.bpf.o")


# --- XDP, TC and cgroup ---


@pytest.fixture
def veth() -> Iterator[VethPair]:
    with veth_pair("ld") as pair:
        yield pair


def possible_cpus() -> int:
    """The kernel's possible CPUs, e.g. '0-3' or '0,2-5': per-CPU maps hold one value each."""
    text = Path("/sys/devices/system/cpu/possible").read_text().strip()
    spans = [part.split("-") for part in text.split(",")]
    return sum(int(span[-1]) - int(span[0]) + 1 for span in spans)


def packets(obj: LoadedObject, slot: int) -> int:
    per_cpu = obj.map("counts").lookup(struct.pack("<I", slot))
    assert isinstance(per_cpu, list)
    return sum(struct.unpack("<Q", value)[0] for value in per_cpu)


def test_xdp_and_tc_count_packets_on_a_veth(build: Path, veth: VethPair) -> None:
    ns_a, ns_b = veth.sender, veth.receiver
    with (
        netns(ns_b),
        LoadedObject.open(build / "net_count.bpf.o", targets=AttachTargets(iface="ebh1")) as obj,
    ):
        obj.load()
        obj.attach_all()
        ours = held_prog_ids()
        links = links_of(ours)
        assert len(links) == 2, "XDP and TC (tcx) are both bpf links"
        info = obj.map("counts").info
        assert (info.type, info.per_cpu, info.key_size, info.value_size) == (
            "percpu_array",
            True,
            4,
            8,
        )
        send_udp(ns_a, 20)
        wait_for(lambda: packets(obj, 0) >= 20 and packets(obj, 1) >= 20)
        slots = dict(obj.map("counts").items())
        assert sorted(slots) == [struct.pack("<I", 0), struct.pack("<I", 1)]
        assert all(len(per_cpu) == possible_cpus() for per_cpu in slots.values())
    assert_gone(ours, links)


def test_legacy_clsact_filter_is_removed_with_its_qdisc(build: Path, veth: VethPair) -> None:
    """attach_all() uses tcx on this kernel; the clsact fallback for kernels before 6.6 is
    driven directly."""
    ns_a, ns_b = veth.sender, veth.receiver

    def tc(*args: str) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", ns_b, "tc", *args], check=True, capture_output=True, text=True
        ).stdout

    with (
        netns(ns_b),
        LoadedObject.open(build / "net_count.bpf.o", targets=AttachTargets(iface="ebh1")) as obj,
    ):
        obj.load()
        prog = next(p for p in obj.programs() if p.name == "ebh_tc")
        attached = attach_tc_clsact(prog.fd, socket.if_nametoindex("ebh1"))
        try:
            assert "clsact" in tc("qdisc", "show", "dev", "ebh1")
            assert "ebh_tc" in tc("filter", "show", "dev", "ebh1", "ingress")
            send_udp(ns_a, 10)
            wait_for(lambda: packets(obj, 1) >= 10)
        finally:
            attached.detach()
        assert "clsact" not in tc("qdisc", "show", "dev", "ebh1")


def test_xdp_without_iface_fails_before_load(build: Path) -> None:
    with pytest.raises(AttachError, match=r"'ebh_xdp' \(xdp\) attaches to a network interface"):
        LoadedObject.open(build / "net_count.bpf.o")


def test_unknown_iface_is_a_clear_error(build: Path) -> None:
    with pytest.raises(AttachError, match="no network interface named 'ebh-none'"):
        LoadedObject.open(build / "net_count.bpf.o", targets=AttachTargets(iface="ebh-none"))


def cgroup2_root() -> Path:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mountpoint, fstype, *_ = line.split()
        if fstype == "cgroup2":
            return Path(mountpoint)
    pytest.skip("no cgroup v2 hierarchy mounted")


def test_cgroup_program_counts_egress_of_its_cgroup(build: Path) -> None:
    cgroup = cgroup2_root() / f"ebh-test-{os.getpid()}"
    cgroup.mkdir()
    try:
        with LoadedObject.open(
            build / "cgroup_count.bpf.o", targets=AttachTargets(cgroup=str(cgroup))
        ) as obj:
            obj.load()
            obj.attach_all()
            ours = held_prog_ids()
            links = links_of(ours)
            assert dict(obj.map("egress").items()) == {}
            send = (
                f"echo $$ > {cgroup}/cgroup.procs && exec {sys.executable} -c "
                '"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)'
                ".sendto(b'x', ('127.0.0.1', 9))\""
            )
            subprocess.run(["sh", "-c", send], check=True)
            counts = dict(obj.map("egress").items())
        assert counts == {struct.pack("<I", socket.AF_INET): struct.pack("<Q", 1)}
        assert_gone(ours, links)
    finally:
        cgroup.rmdir()


# --- what the kernel refuses ---


def test_fentry_refused_with_a_clear_message_and_nothing_loaded(build: Path) -> None:
    with LoadedObject.open(build / "fentry.bpf.o") as obj, pytest.raises(LoadError) as refused:
        obj.load()
    message = str(refused.value)
    assert "'ebh_fentry' (fentry/do_unlinkat)" in message
    assert "EPERM" in message and "fentry" in message
    assert not prog_ids("ebh_fentry")


def test_verifier_rejection_shows_the_verifier_log(build: Path) -> None:
    with (
        LoadedObject.open(build / "verifier_reject.bpf.o") as obj,
        pytest.raises(LoadError) as rejected,
    ):
        obj.load()
    first, *tail = str(rejected.value).splitlines()
    assert first.startswith("the verifier rejected program 'ebh_oob'")
    assert "EACCES" in first
    assert any("invalid access to map value" in line for line in tail)
    assert len(tail) <= 20
    assert not prog_ids("ebh_oob")


@pytest.mark.skipif(has_kprobes(), reason="this kernel has kprobes")
def test_kprobe_on_a_kernel_without_kprobes_fails_before_load(build: Path) -> None:
    with pytest.raises(AttachError, match=r"'ebh_kprobe'.*CONFIG_KPROBES unset"):
        LoadedObject.open(build / "kprobe.bpf.o")


def test_missing_object_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"cannot open .*/none\.bpf\.o: ENOENT"):
        LoadedObject.open(tmp_path / "none.bpf.o")


def test_close_is_idempotent_and_use_after_close_fails(build: Path) -> None:
    obj = LoadedObject.open(build / "exec_events.bpf.o")
    with pytest.raises(LoaderError, match="needs a loaded"):
        obj.attach_all()
    obj.close()
    obj.close()
    with pytest.raises(LoaderError, match="is closed"):
        obj.load()


# --- host checks ---


def test_host_probes() -> None:
    assert kernel_version()[:2] == tuple(int(x) for x in os.uname().release.split(".")[:2])
    assert has_kernel_btf()
    assert probe_prog_type("xdp")
    assert probe_prog_type("tracepoint")
    assert probe_helper("xdp", BPF_FUNC_MAP_LOOKUP_ELEM)
    assert not probe_helper("xdp", 9999)
    with pytest.raises(LoaderError, match="unknown program type 'nonsense'"):
        probe_prog_type("nonsense")
    with pytest.raises(LoaderError, match="cannot probe 'tracing'"):
        probe_prog_type("tracing")
    assert probe_map_type("ringbuf")
    assert issubclass(LoaderError, HubError), "the CLI prints loader errors as one line"


def test_tracefs_is_mounted_when_missing() -> None:
    """In a private mount namespace, so the host's tracefs stays as it is."""
    script = (
        "umount -l /sys/kernel/tracing; test ! -d /sys/kernel/tracing/events || exit 3; "
        f"{sys.executable} -c 'from ebpf_hub.run.host import ensure_tracefs; ensure_tracefs()'"
        " && test -d /sys/kernel/tracing/events"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# --- throughput ---


@pytest.mark.slow
def test_ring_buffer_throughput_through_the_python_callback(build: Path) -> None:
    produced = 200_000
    received = 0

    def count(record: bytes) -> None:
        nonlocal received
        received += 1

    params = {"target_ppid": struct.pack("<I", os.getpid())}
    with LoadedObject.open(build / "openat_flood.bpf.o", params) as obj:
        obj.load()
        obj.attach_all()
        events = obj.events("events", count)
        start = time.perf_counter()
        child = subprocess.Popen([build / "openat_loop", str(produced)])
        while child.poll() is None:
            events.poll(10)
        events.consume()
        elapsed = time.perf_counter() - start
        value = obj.map("dropped").lookup(b"\0\0\0\0")
    assert isinstance(value, bytes)
    dropped = struct.unpack("<Q", value)[0]
    # The loop's own start-up (ld.so, libc) opens a few files too.
    assert produced <= received + dropped <= produced + 50
    print(
        f"\nring buffer: {received} records in {elapsed:.3f} s = "
        f"{received / elapsed:,.0f} records/s through the Python callback; dropped {dropped}"
    )
