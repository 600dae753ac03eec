"""`ebpf-hub run` as a user runs it (root): the seed catalogue published signed to an OCI
layout, its index served from a directory, and each package started through the CLI in a
real subprocess, which installs it. The test causes the activity the package watches, reads
the --json output, stops the runner (Ctrl-C, SIGTERM, --duration or a crash) and checks
with bpftool that nothing it loaded stays behind. Refusals (no kprobes here, fentry
refused, a verifier rejection, no privileges, no consent) must load nothing."""

from __future__ import annotations

import json
import os
import platform
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.cli import main
from ebpf_hub.run.histogram import render
from ebpf_hub.run.host import has_kprobes
from ebpf_hub.run.mapview import merge
from ebpf_hub.run.params import encode_value, parse_extra_args
from ebpf_hub.run.preflight import host_checks
from hubrepo import REPO
from kernelstate import assert_gone, held_prog_ids, links_of, prog_ids
from vethpair import RECEIVER_ADDRESS, RECEIVER_IFACE, SENDER_ADDRESS, send_udp, veth_pair

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
DATA = REPO / "tests" / "data"
GETPPID = {"x86_64": 110, "aarch64": 173}[platform.machine()]
TCP_ESTABLISHED = 1


# --- the hub: seeds published and indexed once; each runner installs from it ---


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user whose hub is the published seed catalogue."""
    return published_env(REPO, tmp_path_factory.mktemp("hub"))


def published_env(root: Path, work: Path) -> dict[str, str]:
    """The environment of a user whose hub is `root`'s packages, published signed to an OCI
    layout and indexed under `work`, with an empty home there."""
    layout, ledger = f"oci:{work / 'oci'}", str(work / "digests.json")
    assert main(["keygen", str(work / "hub")]) == 0
    publish = ["publish", "--root", str(root), "--registry", layout, "--all"]
    assert main([*publish, "--sign-key", str(work / "hub.key"), "--ledger", ledger]) == 0
    index = ["index", "--root", str(root), "--out", str(work / "site"), "--registry", layout]
    assert main([*index, "--digests", ledger]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env.update(
        EBPF_HUB_HOME=str(work / "home"),
        EBPF_HUB_URL=f"file://{work / 'site'}",
        EBPF_HUB_PUBLIC_KEY=str(work / "hub.pub"),
    )
    return env


class Runner:
    """`ebpf-hub run ARGS` in a subprocess, its output collected as it comes; entered once
    it has attached (it prints so on stderr), with the ids of what it holds recorded."""

    def __init__(self, args: list[str], env: dict[str, str], netns: str | None = None) -> None:
        command = [EBPF_HUB, "run", *args]
        if netns:
            command = ["nsenter", f"--net=/run/netns/{netns}", *command]
        self.proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: list[str] = []
        self.err: list[str] = []
        assert self.proc.stdout and self.proc.stderr
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err)),
        ]
        for reader in self._readers:
            reader.start()
        self.progs: set[int] = set()
        self.links: set[int] = set()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    def __enter__(self) -> Self:
        self.wait_until(
            lambda: any(" attached " in line for line in self.err), 60, "the runner to attach"
        )
        self.progs = held_prog_ids(self.proc.pid)
        self.links = links_of(self.progs)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=20)
        for reader in self._readers:
            reader.join(timeout=5)

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the readers finish
                if condition():
                    return
                pytest.fail(f"the runner exited ({self.proc.returncode}): {''.join(self.err)}")
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.err}"
            time.sleep(0.05)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.out) if line.startswith("{")]

    def events(self) -> list[dict[str, Any]]:
        return [r["event"] for r in self.records() if "event" in r]

    def maps(self, name: str) -> list[dict[str, Any]]:
        return [r["map"] for r in self.records() if "map" in r and r["map"]["name"] == name]

    def wait_for_event(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        self.wait_until(lambda: any(map(match, self.events())), 15, "the event")
        return next(e for e in self.events() if match(e))

    def stop(self, signum: int | None = signal.SIGINT) -> None:
        """Stop it as a user would (None: wait for its --duration to end); it must exit 0
        having detached everything."""
        if signum is not None:
            self.proc.send_signal(signum)
        assert self.proc.wait(timeout=20) == 0, "".join(self.err)
        for reader in self._readers:
            reader.join(timeout=5)
        assert "detached after" in self.err[-1]
        assert_gone(self.progs, self.links)


def run_args(package: str, *args: str) -> list[str]:
    return [package, "--json", "--yes", *args]


# --- every seed package, triggered ---


def test_execsnoop_reports_the_execs_of_its_target_parent(hub_env: dict[str, str]) -> None:
    with Runner(run_args("execsnoop", "--param", f"target_ppid={os.getpid()}"), hub_env) as run:
        child = subprocess.run(["/bin/true"], check=True)
        assert child.returncode == 0
        event = run.wait_for_event(lambda e: e["filename"] == "/bin/true")
        run.stop()
    assert event["ppid"] == os.getpid() and event["uid"] == 0
    assert {e["ppid"] for e in run.events()} == {os.getpid()}, "target_ppid filters"


def test_opensnoop_reports_opens_and_failures_and_its_lost_counter(
    hub_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "opened-by-the-test"
    path.write_text("x")
    args = run_args("opensnoop", "--", "--target-pid", str(os.getpid()))
    with Runner(args, hub_env) as run:
        path.read_text()
        missing = tmp_path / "missing"
        with pytest.raises(FileNotFoundError):
            missing.open()
        opened = run.wait_for_event(lambda e: e["filename"] == str(path))
        failed = run.wait_for_event(lambda e: e["filename"] == str(missing))
        run.stop(signal.SIGTERM)
    assert opened["pid"] == os.getpid() and opened["ret"] >= 0
    assert failed["ret"] == -2, "-ENOENT"
    [lost] = run.maps("lost")
    assert lost["kind"] == "counter" and lost["entries"] == [{"key": 0, "value": 0}]


def test_killsnoop_reports_who_signalled_whom(hub_env: dict[str, str]) -> None:
    with Runner(run_args("killsnoop"), hub_env) as run:
        sleeper = subprocess.Popen(["sleep", "30"])
        os.kill(sleeper.pid, signal.SIGTERM)
        sleeper.wait()
        with pytest.raises(ProcessLookupError):
            os.kill(sleeper.pid, 0)
        killed = run.wait_for_event(lambda e: e["target"] == sleeper.pid and e["sig"] == 15)
        probed = run.wait_for_event(lambda e: e["target"] == sleeper.pid and e["sig"] == 0)
        run.stop()
    assert killed["pid"] == os.getpid() and killed["ret"] == 0
    assert probed["ret"] == -3, "-ESRCH"


def test_bashreadline_reports_lines_typed_into_bash(hub_env: dict[str, str]) -> None:
    marker = f"echo hello-{os.getpid()}"
    with Runner(run_args("bashreadline"), hub_env) as run:
        subprocess.run(
            ["bash", "--norc", "-i"],
            input=f"{marker}\nexit\n",
            text=True,
            capture_output=True,
            check=True,
        )
        event = run.wait_for_event(lambda e: e["line"] == marker)
        run.stop()
    assert event["comm"] == "bash"


def test_mallocstat_table_is_printed_every_interval(hub_env: dict[str, str]) -> None:
    with Runner(run_args("mallocstat", "--interval", "0.3"), hub_env) as run:
        child = subprocess.run(["ls", "/usr"], check=True, capture_output=True)
        assert child.returncode == 0
        pid = subprocess.Popen(["ls", "/"], stdout=subprocess.DEVNULL)
        pid.wait()

        def counted() -> bool:
            return any(
                e["key"] == pid.pid and e["value"]["count"] > 0
                for snapshot in run.maps("allocs")
                for e in snapshot["entries"]
            )

        run.wait_until(counted, 15, "the child's mallocs")
        run.stop(signal.SIGTERM)
    snapshots = run.maps("allocs")
    assert len(snapshots) >= 2, "printed on the interval and at the end"
    assert snapshots[-1]["kind"] == "table"
    [row] = [e for e in snapshots[-1]["entries"] if e["key"] == pid.pid]
    assert row["value"]["bytes"] >= row["value"]["count"] > 0


def test_runqlat_histogram_shows_the_wait_of_a_busy_loop(hub_env: dict[str, str]) -> None:
    """More busy loops than CPUs: each waits its turn, for milliseconds. They start held
    (their pids known, for target_pid) and spin once the runner has attached."""
    spin = ["sh", "-c", "read _; while :; do :; done"]
    loops = [
        subprocess.Popen(spin, stdin=subprocess.PIPE) for _ in range((os.cpu_count() or 1) + 1)
    ]
    try:
        with Runner(run_args("runqlat", "--param", f"target_pid={loops[0].pid}"), hub_env) as run:
            for loop in loops:
                assert loop.stdin
                loop.stdin.write(b"go\n")
                loop.stdin.flush()
            time.sleep(1)
            run.stop()
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    [hist] = run.maps("hist")
    assert hist["kind"] == "histogram" and hist["unit"] == "usecs"
    [entry] = hist["entries"]
    buckets = entry["buckets"]
    assert [(b["low"], b["high"]) for b in buckets[:4]] == [(0, 0), (1, 1), (2, 3), (4, 7)]
    assert sum(b["count"] for b in buckets if b["low"] >= 512) > 0, buckets


def test_syscount_counts_the_calls_of_one_process(hub_env: dict[str, str]) -> None:
    args = run_args("syscount", "--duration", "1", "--", "--target-pid", str(os.getpid()))
    with Runner(args, hub_env) as run:
        for _ in range(1000):
            os.getppid()
        run.stop(None)
    [counts] = run.maps("counts")
    by_number = {e["key"]: e["value"] for e in counts["entries"]}
    assert by_number[GETPPID] >= 1000
    assert counts["entries"][0]["value"] == max(by_number.values()), "largest first"


def test_tcpstates_reports_ipv4_and_ipv6_connections(hub_env: dict[str, str]) -> None:
    listeners, port = _listeners_on_one_port()
    with Runner(run_args("tcpstates", "--param", f"target_port={port}"), hub_env) as run:
        for listener, address in zip(listeners, ("127.0.0.1", "::1"), strict=True):
            with socket.create_connection((address, port)) as client:
                accepted, _ = listener.accept()
                accepted.close()
            assert client.fileno() == -1
        v4 = run.wait_for_event(lambda e: e["family"] == 2 and e["newstate"] == TCP_ESTABLISHED)
        v6 = run.wait_for_event(lambda e: e["family"] == 10 and e["newstate"] == TCP_ESTABLISHED)
        run.stop()
    for listener in listeners:
        listener.close()
    assert (v4["saddr"], v4["daddr"]) == ("127.0.0.1", "127.0.0.1")
    assert (v6["saddr_v6"], v6["daddr_v6"]) == ("::1", "::1")
    assert port in (v4["sport"], v4["dport"]) and port in (v6["sport"], v6["dport"])


def _listeners_on_one_port() -> tuple[list[socket.socket], int]:
    """Listeners on 127.0.0.1:P and [::1]:P, one port for both families."""
    for _ in range(20):
        v4 = socket.create_server(("127.0.0.1", 0))
        port = v4.getsockname()[1]
        try:
            v6 = socket.create_server(("::1", port), family=socket.AF_INET6)
        except OSError:
            v4.close()
            continue
        return [v4, v6], port
    pytest.fail("no port free on both 127.0.0.1 and ::1")


def test_tcflow_sees_packets_on_a_veth_and_a_crash_leaves_nothing(
    hub_env: dict[str, str],
) -> None:
    with veth_pair("tc") as veth:
        args = run_args("tcflow", "--iface", RECEIVER_IFACE)
        with Runner(args, hub_env, netns=veth.receiver) as run:
            assert run.links, "tc attaches through a tcx link"
            send_udp(veth.sender, 5, port=9)
            event = run.wait_for_event(lambda e: e["saddr"] == SENDER_ADDRESS)
            run.proc.kill()  # a crash: the kernel closes its fds, which detaches
            run.proc.wait()
            assert_gone(run.progs, run.links)
    assert (event["daddr"], event["dport"], event["proto"]) == (RECEIVER_ADDRESS, 9, 17)


def test_xdpcount_counts_packets_per_protocol_on_a_veth(hub_env: dict[str, str]) -> None:
    with veth_pair("xc") as veth:
        args = run_args("xdpcount", "--iface", RECEIVER_IFACE, "--interval", "0.3")
        with Runner(args, hub_env, netns=veth.receiver) as run:
            send_udp(veth.sender, 20)

            def udp_packets() -> int:
                return max(
                    (e["value"]["packets"] for m in run.maps("counts") for e in m["entries"]
                     if e["key"] == socket.IPPROTO_UDP),
                    default=0,
                )  # fmt: skip

            run.wait_until(lambda: udp_packets() >= 20, 15, "20 UDP packets counted")
            run.stop()
        shown = subprocess.run(
            ["ip", "-n", veth.receiver, "link", "show", RECEIVER_IFACE],
            capture_output=True,
            text=True,
            check=True,
        )
    assert "xdp" not in shown.stdout, "the XDP program is detached from the interface"


# --- generic decoding: every kind of field, fast path and general decoder ---


# Two objects: rich.bpf.o (perf event array, a field of every kind the fast path prints) and
# bits.bpf.o (ring buffer, bitfields and a union: the general decoder's).
DECODE_PACKAGE = DATA / "run" / "decode"
EXPECTED_RICH = {
    "negative": -5,
    "big": 2**64 - 1,
    "flag": True,
    "color": "BLUE",
    "unnamed": 99,
    "v4": "169.254.1.2",
    "v6": "fe80::1",
    "inner": {"port": 8080, "delta": -1, "tag": "ab"},
    "counts": [1, 2, 3],
    "pair": [{"port": 1, "delta": 2, "tag": "x"}, {"port": 3, "delta": 4, "tag": "y"}],
    "name": "rich",
}
EXPECTED_BITS = {"low": 5, "high": 300, "u": {"word": 0x04030201, "bytes": [1, 2, 3, 4]}}


def test_events_decode_from_btf_in_json_lines(hub_env: dict[str, str]) -> None:
    """A source directory: compiled by the runner, its parameter set in both objects."""
    args = run_args(f"{DECODE_PACKAGE}/", "--duration", "1", "--param", f"target_pid={os.getpid()}")
    with Runner(args, hub_env) as run:
        os.getppid()
        os.getpgid(0)
        run.stop(None)
    by_kind = {("low" in e): e for e in run.events()}
    assert by_kind[False] == {"pid": os.getpid(), **EXPECTED_RICH}
    assert by_kind[True] == {"pid": os.getpid(), **EXPECTED_BITS}


def test_events_print_as_aligned_columns(hub_env: dict[str, str]) -> None:
    args = [f"{DECODE_PACKAGE}/", "--yes", "--param", f"target_pid={os.getpid()}"]
    with Runner(args, hub_env) as run:
        os.getppid()
        run.wait_until(lambda: len(run.out) >= 3, 15, "headers and a row")
        run.stop()
    header = next(line for line in run.out if line.startswith("PID ") and "NEGATIVE" in line)
    row = run.out[run.out.index(header) + 1 :]
    [line] = [r for r in row if r.startswith(str(os.getpid()))]
    columns = header.split()
    assert columns[:6] == ["PID", "NEGATIVE", "BIG", "FLAG", "COLOR", "UNNAMED"]
    assert "INNER.PORT" in columns and "INNER.TAG" in columns
    for name in ("BIG", "V6", "COUNTS"):  # each value starts under its heading
        start = header.index(name)
        assert line[start - 1] == " " and line[start] != " ", (name, header, line)
    assert "fe80::1" in line and "[1,2,3]" in line and line.rstrip().endswith("rich")


# --- what must be refused before anything stays loaded ---


def _source_dir(tmp_path: Path, source: str) -> Path:
    """A package directory holding one of the loader tests' programs."""
    directory = tmp_path / Path(source).stem.removesuffix(".bpf")
    directory.mkdir()
    shutil.copy(DATA / "loader" / source, directory)
    return directory


def refused(args: list[str], env: dict[str, str], **popen: Any) -> str:
    """Run `ebpf-hub run ARGS`, which must fail with one error line; its stderr."""
    result: subprocess.CompletedProcess[str] = subprocess.run(
        [EBPF_HUB, "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **popen,
    )
    assert result.returncode == 1, result.stderr
    assert "ebpf-hub: error: " in result.stderr
    return result.stderr


@pytest.mark.skipif(has_kprobes(), reason="this kernel has kprobes")
def test_a_kprobe_package_is_refused_by_preflight(hub_env: dict[str, str], tmp_path: Path) -> None:
    err = refused([f"{_source_dir(tmp_path, 'kprobe.bpf.c')}/", "--yes"], hub_env)
    assert "nothing was loaded" in err
    assert "kprobe programs: this kernel has no kprobes (CONFIG_KPROBES unset)" in err
    assert not prog_ids("ebh_kprobe")


def _fentry_refused() -> bool:
    return any(c.name == "fentry programs" and not c.ok for c in host_checks())


@pytest.mark.skipif(not _fentry_refused(), reason="this kernel allows fentry programs")
def test_an_fentry_package_is_refused_by_preflight(hub_env: dict[str, str], tmp_path: Path) -> None:
    err = refused([f"{_source_dir(tmp_path, 'fentry.bpf.c')}/", "--yes"], hub_env)
    assert "nothing was loaded" in err
    assert "fentry programs: the kernel refuses fentry programs: EPERM" in err
    assert not prog_ids("ebh_fentry")


def test_a_verifier_rejection_shows_the_log_tail(hub_env: dict[str, str], tmp_path: Path) -> None:
    err = refused([f"{_source_dir(tmp_path, 'verifier_reject.bpf.c')}/", "--yes"], hub_env)
    assert "ebpf-hub: error: the verifier rejected program 'ebh_oob'" in err
    assert "invalid access to map value" in err
    assert not prog_ids("ebh_oob")


def test_without_privileges_preflight_says_which_are_missing(tmp_path: Path) -> None:
    """As user nobody, from a directory nobody may read (pytest's tmp_path is root's)."""
    obj = compile_source(_source_dir(tmp_path, "exec_events.bpf.c"), tmp_path / "built")
    shared = Path(tempfile.mkdtemp(prefix="ebh-unprivileged-"))
    try:
        shared.chmod(0o755)
        shutil.copy(obj, shared)
        (shared / obj.name).chmod(0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        result = subprocess.run(
            [*nobody, EBPF_HUB, "run", str(shared / obj.name), "--yes"],
            env={"PATH": os.environ["PATH"], "EBPF_HUB_HOME": str(shared / "home")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(shared)
    assert result.returncode == 1
    assert "privileges: missing CAP_BPF, CAP_PERFMON (run as root" in result.stderr


def test_without_a_terminal_or_yes_it_shows_the_permissions_and_refuses(
    hub_env: dict[str, str],
) -> None:
    err = refused(["opensnoop"], hub_env, stdin=subprocess.DEVNULL)
    assert "attach trace_openat_enter to tracepoint syscalls/sys_enter_openat" in err
    assert "read the memory of processes" in err
    assert "no terminal to confirm on" in err and "pass --yes" in err


def test_on_a_terminal_the_user_is_asked_and_may_decline(hub_env: dict[str, str]) -> None:
    answers, terminal = pty.openpty()
    try:
        os.write(answers, b"n\n")
        err = refused(["syscount"], hub_env, stdin=terminal)
    finally:
        os.close(answers)
        os.close(terminal)
    assert "Run it? [y/N]" in err
    assert "not run: the permissions were declined" in err


# --- parameters: typed from BTF, checked before anything loads ---


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--param", "nope=1"],
            "unknown parameter 'nope'; the parameters are: failed_only (bool, default false), "
            "target_pid (pid_t, default 0)",
        ),
        (["--param", "target_pid=abc"], "parameter target_pid (pid_t): 'abc' is not an integer"),
        (
            ["--", "--target-pid", "4294967296"],
            "parameter target_pid (pid_t): 4294967296 is out of range -2147483648..2147483647",
        ),
        (
            ["--", "--failed-only=maybe"],
            "parameter failed_only (bool): 'maybe' is not a boolean: use true or false",
        ),
        (
            ["--param", "target_pid"],
            "--param 'target_pid': expected NAME=VALUE, e.g. target_pid=1234",
        ),
        (["--", "stray"], "unexpected 'stray' after '--': parameters are given as --NAME VALUE"),
    ],
)
def test_bad_parameters_are_one_clear_line(
    hub_env: dict[str, str], args: list[str], message: str
) -> None:
    err = refused(["opensnoop", "--yes", *args], hub_env)
    assert err.strip().splitlines()[-1] == f"ebpf-hub: error: {message}"


def test_parameter_words_and_values_by_type(tmp_path: Path) -> None:
    tcpstates = compile_source(REPO / "sources" / "tcpstates", tmp_path)
    params = {p.name: p for p in inspect_object(tcpstates).parameters}
    assert parse_extra_args(["--target-port", "80", "--target-family=10"], params) == [
        ("target_port", "80"),
        ("target_family", "10"),
    ]
    assert encode_value(params["target_port"], "0x1f90") == (8080).to_bytes(2, "little")
    opensnoop = compile_source(REPO / "sources" / "opensnoop", tmp_path)
    flags = {p.name: p for p in inspect_object(opensnoop).parameters}
    assert parse_extra_args(["--failed-only", "--no-failed-only"], flags) == [
        ("failed_only", "true"),
        ("failed_only", "false"),
    ]
    assert encode_value(flags["failed_only"], "yes") == b"\x01"


def compile_source(source: Path, out: Path) -> Path:
    """The one object of a package's sources, compiled as `ebpf-hub build` does."""
    from ebpf_hub.build.compile import compile_objects
    from ebpf_hub.build.toolchain import toolchain

    [obj] = compile_objects(toolchain(), source, out, source.name)
    return obj


# --- doctor and the printers ---


def test_doctor_reports_the_host_as_json(hub_env: dict[str, str]) -> None:
    result = subprocess.run(
        [EBPF_HUB, "doctor", "--json"], env=hub_env, capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["kernel BTF"]["ok"] and checks["privileges"]["ok"]
    assert checks["tracepoint programs"]["ok"] and checks["ringbuf maps"]["ok"]
    if not has_kprobes():
        kprobes = checks["kprobe programs"]
        assert not kprobes["ok"] and not kprobes["required"]
        assert kprobes["detail"] == "this kernel has no kprobes (CONFIG_KPROBES unset)"


def test_histogram_bars_like_bcc() -> None:
    assert render([0, 3, 10, 50, 7, 1, *[0] * 21], "usecs") == (
        "     usecs               : count    distribution\n"
        "         0 -> 0          : 0        |                                        |\n"
        "         1 -> 1          : 3        |**                                      |\n"
        "         2 -> 3          : 10       |********                                |\n"
        "         4 -> 7          : 50       |****************************************|\n"
        "         8 -> 15         : 7        |*****                                   |\n"
        "        16 -> 31         : 1        |                                        |\n"
    )


def test_per_cpu_values_merge_member_by_member() -> None:
    per_cpu = [
        {"packets": 1, "bytes": 60, "slots": [1, 0]},
        {"packets": 2, "bytes": 70, "slots": [0, 5]},
    ]
    assert merge(per_cpu) == {"packets": 3, "bytes": 130, "slots": [1, 5]}


def built_dir(source: Path, out: Path) -> Path:
    """`source` (a package directory) as `ebpf-hub build DIR --out OUT` leaves it: objects
    and config.json."""
    subprocess.run(
        [EBPF_HUB, "build", str(source), "--out", str(out)], check=True, capture_output=True
    )
    return out


def build_edited(
    source: Path, tmp_path: Path, edit: Callable[[str], str]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`source` (a package directory) copied under `tmp_path`, its ebpf-hub.yaml changed by
    `edit`, and `ebpf-hub build` of it, which may fail: the changed manifest and the result."""
    package = tmp_path / source.name
    shutil.copytree(source, package)
    manifest = package / "ebpf-hub.yaml"
    manifest.write_text(edit(manifest.read_text()))
    result = subprocess.run(
        [EBPF_HUB, "build", str(package), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    return manifest, result


def own_pid_run(built: Path, *options: str) -> Runner:
    """`ebpf-hub run` of a built directory whose `target_pid` is this test process, with none
    of the user's hub settings."""
    args = [f"{built}/", "--yes", "--param", f"target_pid={os.getpid()}", *options]
    return Runner(args, {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")})
