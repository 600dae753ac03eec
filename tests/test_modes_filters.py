"""Issue 15, items 4 and 7: modes, optional programs and filters that need user space, with a
tool written here in the libbpf-tools style (the C is below: a shared emit() with the usual
`targ_tgid` and `filter_cg` + `cgroup_map` checks, one program per hook), built by
`ebpf-hub build` from a package directory and run by `ebpf-hub run` on the real kernel.

The trigger is a child process that makes getppid() or getpgid() calls when told to, so
each test knows the process IDs it expects events from; everything else on the machine
making the same calls is told apart by PID.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.matrix.frames import Attempt
from ebpf_hub.matrix.results import Status, judge
from hubrepo import REPO, make_hub, write_package
from kernelstate import bpftool, held_prog_ids

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

EBPF_HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
PPID, PGID = 1, 2  # the `kind` each program writes

SOURCE = """\
// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "callsnoop.h"

const volatile pid_t targ_tgid = 0;
const volatile bool filter_cg = false;

struct {
\t__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
\t__type(key, u32);
\t__type(value, u32);
\t__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
\t__uint(type, BPF_MAP_TYPE_RINGBUF);
\t__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int emit(__u32 kind)
{
\tstruct event *e;
\t__u32 tgid = bpf_get_current_pid_tgid() >> 32;

\tif (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
\t\treturn 0;
\tif (targ_tgid && targ_tgid != tgid)
\t\treturn 0;
\te = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
\tif (!e)
\t\treturn 0;
\te->pid = tgid;
\te->kind = kind;
\tbpf_get_current_comm(e->comm, sizeof(e->comm));
\tbpf_ringbuf_submit(e, 0);
\treturn 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
\treturn emit(1);
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int on_getpgid(void *ctx)
{
\treturn emit(2);
}

SEC("tracepoint/syscalls/sys_enter_no_such_call")
int on_missing(void *ctx)
{
\treturn emit(3);
}

char LICENSE[] SEC("license") = "GPL";
"""

HEADER = """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __CALLSNOOP_H
#define __CALLSNOOP_H

struct event {
\t__u32 pid;
\t__u32 kind;
\tchar comm[16];
};

#endif
"""

MANIFEST = """\
name: callsnoop
summary: Trace getppid() or getpgid() calls, one mode each
description: A package of the modes and filters tests, never published.
license: GPL-2.0-only
maintainers: [{name: Test}]
categories: [process]
source: {git: 'https://example.org/callsnoop.git'}
requires: {kernel: '5.8'}
programs:
  - {name: on_getppid, section: tracepoint/syscalls/sys_enter_getppid}
  - {name: on_getpgid, section: tracepoint/syscalls/sys_enter_getpgid}
  - {name: on_missing, section: tracepoint/syscalls/sys_enter_no_such_call, optional: true}
permissions: {attach: [tracepoint]}
output: {events: true}
modes:
  ppid: {description: getppid() calls., default: true, programs: [on_getppid]}
  pgid: {description: getpgid() calls., programs: [on_getpgid]}
filters:
  pid: {global: targ_tgid}
  cgroup: {global: filter_cg, map: cgroup_map}
versions: [{version: 0.1.0, created: '2026-12-01', changes: First release.}]
"""

# A child that makes a call when it reads a line, then answers "done": the test knows its PID.
CALLER = """\
import os, sys
for line in sys.stdin:
    for _ in range(20):
        os.getppid() if line.strip() == "ppid" else os.getpgid(0)
    print("done", flush=True)
"""


def package_dir(tmp_path: Path, manifest: str = MANIFEST) -> Path:
    directory = tmp_path / "callsnoop"
    directory.mkdir()
    (directory / "callsnoop.bpf.c").write_text(SOURCE)
    (directory / "callsnoop.h").write_text(HEADER)
    (directory / "ebpf-hub.yaml").write_text(manifest)
    return directory


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built once: its object and the artifact config that carries the modes."""
    directory = package_dir(tmp_path_factory.mktemp("modes"))
    out = directory.parent / "built"
    assert main(["build", str(directory), "--out", str(out)]) == 0
    return out


class Caller:
    """A child process making getppid() or getpgid() calls on demand."""

    def __init__(self, cgroup: Path | None = None) -> None:
        # A child moved into `cgroup` before it runs Python: all its calls come from there.
        prefix = f"echo $$ > {cgroup}/cgroup.procs && " if cgroup else ""
        self.proc = subprocess.Popen(
            ["sh", "-c", f'{prefix}exec "$0" -c "$1"', sys.executable, CALLER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self.proc.pid

    def call(self, which: str) -> None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{which}\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "done\n"

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def callers() -> Iterator[list[Caller]]:
    made: list[Caller] = []
    yield made
    for caller in made:
        caller.close()


class Run:
    """`ebpf-hub run ARGS --json`, entered once it has attached, ended by SIGINT."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [EBPF_HUB, "run", *args, "--yes", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []
        assert self.proc.stderr
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,))
        self._reader.start()
        self.stdout = ""

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.err.append(line)

    def __enter__(self) -> Run:
        deadline = time.monotonic() + 60
        while not any(" attached " in line for line in self.err):
            assert self.proc.poll() is None, "".join(self.err)
            assert time.monotonic() < deadline, "".join(self.err)
            time.sleep(0.05)
        self.programs = held_programs(self.proc.pid)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.proc.send_signal(2)
        self.stdout, _ = self.proc.communicate(timeout=30)
        self._reader.join(timeout=5)
        assert self.proc.returncode == 0, "".join(self.err)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line)["event"] for line in self.stdout.splitlines()]


def held_programs(pid: int) -> set[str]:
    """The names of the BPF programs process `pid` holds (the kernel's, 15 characters)."""
    ids = held_prog_ids(pid)
    return {str(p["name"]) for p in bpftool("prog", "list") if p["id"] in ids}


def kinds_of(events: list[dict[str, Any]], pid: int) -> set[int]:
    return {e["kind"] for e in events if e["pid"] == pid}


# --- modes and optional programs ---


def test_each_mode_attaches_and_prints_only_its_own_programs(
    built: Path, callers: list[Caller]
) -> None:
    """The default mode and --mode pgid each load only their own program (the other is not
    even loaded), print only its events, and say so; the optional program whose tracepoint
    does not exist is skipped with a note in both."""
    caller = Caller()
    callers.append(caller)
    for args, kind, program in (([], PPID, "on_getppid"), (["--mode", "pgid"], PGID, "on_getpgid")):
        with Run([str(built), *args]) as run:
            caller.call("ppid")
            caller.call("pgid")
            time.sleep(0.3)
        assert run.programs == {program}
        assert kinds_of(run.events(), caller.pid) == {kind}
        err = "".join(run.err)
        mode = "pgid" if args else "ppid"
        assert f"mode {mode}: attached 1 program ({program})" in err, err
        assert (
            "skipped optional program 'on_missing' "
            "(tracepoint/syscalls/sys_enter_no_such_call): this kernel has no such tracepoint"
        ) in err, err
    assert held_prog_ids(caller.pid) == set()


def test_info_of_the_config_lists_the_modes(built: Path) -> None:
    """The artifact config carries the declarations, so an installed package keeps them."""
    config = json.loads((built / "config.json").read_text())
    assert config["modes"] == {
        "ppid": {"description": "getppid() calls.", "programs": ["on_getppid"], "default": True},
        "pgid": {"description": "getpgid() calls.", "programs": ["on_getpgid"]},
    }
    assert config["optionalPrograms"] == ["on_missing"]
    assert config["filters"] == {
        "pid": {"global": "targ_tgid"},
        "cgroup": {"global": "filter_cg", "map": "cgroup_map"},
    }


def run_error(args: list[str]) -> str:
    """The one error line of a run that must fail before loading anything."""
    result = subprocess.run(
        [EBPF_HUB, "run", *args, "--yes"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("ebpf-hub: error")]
    assert len(errors) == 1, result.stderr
    assert " attached " not in result.stderr
    return errors[0]


def test_an_unknown_mode_and_an_undeclared_filter_are_refused(built: Path) -> None:
    assert "has no mode 'nosuch'; its modes: pgid, ppid" in run_error(
        [str(built), "--mode", "nosuch"]
    )
    assert "does not filter by --uid; it supports: --pid, --cgroup" in run_error(
        [str(built), "--uid", "0"]
    )
    assert "does not filter by --comm; it supports: --pid, --cgroup" in run_error(
        [str(built), "--comm", "sh"]
    )


def test_a_missing_hook_of_a_program_not_optional_stays_an_error(tmp_path: Path) -> None:
    directory = package_dir(tmp_path, MANIFEST.replace(", optional: true}", "}"))
    assert main(["build", str(directory), "--out", str(tmp_path / "out")]) == 0
    error = run_error([str(tmp_path / "out")])
    assert "tracepoint syscalls/sys_enter_no_such_call: this kernel has no such tracepoint" in (
        error
    )


# --- filters ---


def test_pid_filter_writes_the_declared_global(built: Path, callers: list[Caller]) -> None:
    watched, other = Caller(), Caller()
    callers.extend([watched, other])
    with Run([str(built), "--pid", str(watched.pid)]) as run:
        watched.call("ppid")
        other.call("ppid")
        time.sleep(0.3)
    pids = {event["pid"] for event in run.events()}
    assert pids == {watched.pid}, pids


def cgroup2_root() -> Path:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or its `unified` beside
    the v1 controllers)."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mountpoint, fstype, *_ = line.split()
        if fstype == "cgroup2":
            return Path(mountpoint)
    raise AssertionError("no cgroup v2 hierarchy is mounted: mount -t cgroup2 none DIR")


@pytest.fixture
def cgroup() -> Iterator[Path]:
    """A new cgroup v2 directory, removed (empty again) after the test."""
    path = cgroup2_root() / f"ebh-modes-{os.getpid()}"
    path.mkdir()
    try:
        yield path
    finally:
        path.rmdir()


def test_cgroup_filter_fills_the_cgroup_map(
    built: Path, cgroup: Path, callers: list[Caller]
) -> None:
    inside, outside = Caller(cgroup), Caller()
    callers.extend([inside, outside])
    with Run([str(built), "--cgroup", str(cgroup)]) as run:
        inside.call("ppid")
        outside.call("ppid")
        time.sleep(0.3)
    pids = {event["pid"] for event in run.events()}
    assert pids == {inside.pid}, pids


def test_cgroup_outside_the_cgroup2_hierarchy_is_refused(built: Path, tmp_path: Path) -> None:
    error = run_error([str(built), "--cgroup", str(tmp_path)])
    assert "not a directory of the cgroup v2 hierarchy" in error, error


# --- what validate and build check ---


def build_error(tmp_path: Path, manifest: str, capsys: pytest.CaptureFixture[str]) -> str:
    directory = package_dir(tmp_path, manifest)
    capsys.readouterr()
    assert main(["build", str(directory), "--out", str(tmp_path / "out")]) == 1
    return capsys.readouterr().err


def test_filters_must_name_a_global_and_a_map_of_the_right_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = MANIFEST.replace("{global: targ_tgid}", "{global: targ_pid}").replace(
        "map: cgroup_map", "map: events"
    )
    error = build_error(tmp_path, manifest, capsys)
    assert "filters.pid.global names 'targ_pid', which no object has" in error, error
    assert "filters.cgroup.map events is a ringbuf map; it must be BPF_MAP_TYPE_CGROUP_ARRAY" in (
        error
    ), error


def test_modes_must_name_declared_programs_and_one_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = MANIFEST.replace("programs: [on_getpgid]}", "programs: [on_nothing], default: true}")
    error = build_error(tmp_path, manifest, capsys)
    assert "mode 'pgid' names program 'on_nothing', which programs: does not list" in error, error
    assert "exactly one mode must have `default: true` (found: ppid, pgid)" in error, error


def test_validate_and_info_show_the_modes_filters_and_optional_programs(tmp_path: Path) -> None:
    """Through the index: `validate` accepts the declarations, the JSON index carries them,
    and `info` lists the modes (default marked), the filter options and the optional
    program."""
    from ebpf_hub.index.srchash import tree_hash

    root = make_hub(tmp_path / "hub")
    sources = root / "sources" / "callsnoop"
    sources.mkdir(parents=True)
    (sources / "callsnoop.bpf.c").write_text(SOURCE)
    (sources / "callsnoop.h").write_text(HEADER)
    manifest = MANIFEST.replace(
        "source: {git: 'https://example.org/callsnoop.git'}", "source: {path: sources/callsnoop}"
    ).replace("version: 0.1.0,", f"version: 0.1.0, tree: '{tree_hash(sources)}',")
    write_package(root, "callsnoop", manifest)
    assert main(["validate", "--root", str(root)]) == 0
    assert main(["index", "--root", str(root), "--out", str(tmp_path / "site")]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env.update(EBPF_HUB_HOME=str(tmp_path / "home"), EBPF_HUB_URL=f"file://{tmp_path / 'site'}")
    info = subprocess.run(
        [EBPF_HUB, "info", "callsnoop"], env=env, capture_output=True, text=True, check=False
    )
    assert info.returncode == 0, info.stderr
    lines = [line.rstrip() for line in info.stdout.splitlines()]
    assert "modes (ebpf-hub run callsnoop --mode NAME):" in lines, info.stdout
    assert "  ppid (default)           on_getppid" in lines, info.stdout
    assert "      getpgid() calls." in lines, info.stdout
    assert "filters: --pid --cgroup" in lines, info.stdout
    assert any(line.endswith("sys_enter_no_such_call  (optional)") for line in lines), lines


def test_the_kernel_matrix_passes_an_optional_program_whose_hook_is_missing() -> None:
    """The verdict only (tests/test_matrix.py boots the guests): the same missing tracepoint
    is a skip for a program that needs it and a pass for one declared optional."""
    log = (
        "libbpf: prog 'on_missing': failed to attach to tracepoint "
        "'syscalls/sys_enter_no_such_call': No such file or directory\n"
    )
    section = "tracepoint/syscalls/sys_enter_no_such_call"
    attempt = Attempt("/objects/0/x.bpf.o", "on_missing", section, "attach", errno.ENOENT, log, 1)
    required, reason = judge(attempt, btf=True)
    assert required is Status.SKIP and reason.startswith("verified, not attached: hook missing")
    optional, reason = judge(attempt, btf=True, optional=True)
    assert optional is Status.PASS
    assert reason.startswith("optional, skipped here: verified, not attached: hook missing")


def test_ebpf_hub_test_attaches_every_mode_but_a_missing_optional_hook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ebpf-hub test` checks every program that can attach here: both modes' programs, not
    the optional one whose tracepoint this kernel lacks."""
    directory = package_dir(tmp_path)
    trigger = directory / "trigger"
    trigger.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import os; os.getppid()'\n")
    trigger.chmod(0o755)
    capsys.readouterr()
    assert main(["test", str(directory), "--json"]) == 0, capsys.readouterr().err
    (result,) = json.loads(capsys.readouterr().out)["objects"]
    assert sorted(result["programs"]) == [
        "on_getpgid (tracepoint/syscalls/sys_enter_getpgid)",
        "on_getppid (tracepoint/syscalls/sys_enter_getppid)",
    ]
    assert result["events"] > 0
