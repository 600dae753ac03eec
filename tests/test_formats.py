"""Declared output formats (issue #15 item 5): a real package, built and run on this kernel.

tests/data/formats/fmtprobe emits, on each openat() return of its target, two events with a
field of every format (the result and syscall number are the kernel's) and a union whose
tag chooses `first`, then `second`. Built with `ebpf-hub build DIR`, its formats travel in
the artifact config (`config.json`), which is all `ebpf-hub run OUT/` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path

import pytest

from hubrepo import REPO
from test_run import Runner, build_edited, built_dir, own_pid_run

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

PROBE = REPO / "tests" / "data" / "formats" / "fmtprobe"
MISSING = "/nonexistent-ebpf-hub-format-test"
OPENAT = {"x86_64": 257, "aarch64": 56}[platform.machine()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fmtprobe as `ebpf-hub build DIR` leaves it: objects and config.json."""
    return built_dir(PROBE, tmp_path_factory.mktemp("fmtprobe") / "out")


def _open_missing_until(run: Runner, seen: str) -> None:
    def opened() -> bool:
        with contextlib.suppress(FileNotFoundError):
            os.close(os.open(MISSING, os.O_RDONLY))
        return sum(seen in line for line in run.out) >= 2

    run.wait_until(opened, 20, f"two lines with {seen}")


def test_columns_show_every_format_in_the_declared_order(built: Path) -> None:
    with own_pid_run(built, "--timestamp") as run:
        _open_missing_until(run, "ENOENT")
        run.stop()
    header = run.out[0].split()
    # --timestamp first, then the declared order, then the rest in struct order; PAD hidden.
    assert header[:6] == ["TIME", "PID", "COMM", "RET", "ID", "U"]
    rest = ["SIG", "PERR", "MFLAGS", "OFLAGS", "STATE", "FAMILY", "DPORT", "SADDR", "DADDR"]
    assert header[6:] == [*rest, "LAT", "TS", "START", "SIZE", "KIND"]
    rows = [line for line in run.out[1:] if " ENOENT " in line]
    first = next(line for line in rows if "first.a=" in line)
    second = next(line for line in rows if "second.c=" in line)
    for row in (first, second):
        cells = row.split()
        assert re.fullmatch(r"\d\d:\d\d:\d\d", cells[0])
        assert cells[1] == str(os.getpid())
        assert "openat" in cells and "SIGKILL" in cells and "EACCES" in cells
        assert "MS_BIND|MS_REC" in cells and "READ|EXTRA|0x100" in cells
        assert "ESTABLISHED" in cells and "AF_INET" in cells and "8080" in cells
        assert "127.0.0.1" in cells and "::1" in cells and "1.50ms" in cells
        assert "1.5KiB" in cells and "77" not in cells
        stamp = next(c for c in cells if re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", c))
        assert abs(_seconds_of_day(stamp) - _seconds_of_day(time.strftime("%H:%M:%S"))) < 60
        age = next(c for c in cells if c.endswith("s") and c[:-1].replace(".", "").isdigit())
        assert 2.0 <= float(age[:-1]) < 30
    # The union: only the member the tag chooses, its own formats applied.
    assert "first.a=7 first.b=8" in first and "second.c" not in first
    assert "second.c=2.0KiB" in second and "first.a" not in second
    assert first.split()[-1] == "FIRST" and second.split()[-1] == "SECOND"


def _seconds_of_day(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return (int(hours) * 60 + int(minutes)) * 60 + float(seconds)


def test_json_keeps_the_raw_event_and_adds_the_formatted_text(built: Path) -> None:
    with own_pid_run(built, "--json", "-T") as run:
        _open_missing_until(run, '"ENOENT"')
        run.stop()
    records = [r for r in run.records() if r.get("event", {}).get("ret") == -2]
    first = next(r for r in records if r["event"]["kind"] == 1)
    second = next(r for r in records if r["event"]["kind"] == 2)
    event = first["event"]
    assert event["id"] == OPENAT and event["sig"] == 9 and event["pad"] == 77
    assert event["mflags"] == 0x5000 and event["saddr"] == 0x0100007F
    assert first["formatted"] == {
        "ret": "ENOENT",
        "id": "openat",
        "sig": "SIGKILL",
        "perr": "EACCES",
        "mflags": "MS_BIND|MS_REC",
        "oflags": "READ|EXTRA|0x100",
        "state": "ESTABLISHED",
        "family": "AF_INET",
        "dport": "8080",
        "saddr": "127.0.0.1",
        "daddr": "::1",
        "lat": "1.50ms",
        "ts": first["formatted"]["ts"],
        "start": first["formatted"]["start"],
        "size": "1.5KiB",
        "kind": "FIRST",
    }
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", first["formatted"]["ts"])
    # Unchosen members are left out of the raw event; a member's field formats when chosen.
    assert event["u"] == {"first": {"a": 7, "b": 8}}
    assert second["event"]["u"] == {"second": {"c": 2048}}
    assert second["formatted"]["u.second.c"] == "2.0KiB"
    assert "u.second.c" not in first["formatted"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", first["time"])


def test_raw_prints_the_numbers_the_kernel_wrote(built: Path) -> None:
    with own_pid_run(built, "--raw") as run:
        _open_missing_until(run, " -2 ")
        run.stop()
    assert run.out[0].split()[:3] == ["PID", "RET", "ID"]  # struct order: no columns:
    row = next(line for line in run.out if " -2 " in line).split()
    assert row[2] == str(OPENAT) and "SIGKILL" not in row and "77" in row


def test_opensnoop_seed_prints_errno_and_open_flags_by_name() -> None:
    """The seed's declarations from the hub checkout; its formatted fields are top-level
    integers, which the compiled JSON template formats from the values it unpacks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    source = REPO / "sources" / "opensnoop"
    args = [str(source), "--json", "--yes", "-p", f"target_pid={os.getpid()}"]
    with Runner(args, env) as run:
        _open_missing_until(run, '"ENOENT"')
        fd = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
        os.close(fd)
        run.wait_until(lambda: any('"/dev/null"' in line for line in run.out), 15, "/dev/null")
        run.stop()
    failed = next(r for r in run.records() if r.get("event", {}).get("filename") == MISSING)
    # Python opens every file with O_CLOEXEC (PEP 446); O_RDONLY is 0.
    assert failed["event"]["ret"] == -2 and failed["event"]["flags"] == os.O_CLOEXEC
    assert failed["formatted"] == {"ret": "ENOENT", "flags": "O_CLOEXEC"}
    opened = next(r for r in run.records() if r.get("event", {}).get("filename") == "/dev/null")
    assert opened["formatted"] == {"ret": str(fd), "flags": "O_WRONLY|O_CLOEXEC"}


def test_build_refuses_formats_that_do_not_fit_the_event_struct(tmp_path: Path) -> None:
    manifest, result = build_edited(
        PROBE,
        tmp_path,
        lambda text: text.replace("    ret: errno\n", "    rett: errno\n    comm: signal\n"),
    )
    assert result.returncode != 0
    error = result.stderr
    assert "output.fields.rett: no field 'rett' in struct event; name one of: pid, ret, id" in error
    assert "output.fields.comm: signal needs an integer field, but 'comm' is char[16]" in error
    assert str(manifest) in error or "ebpf-hub.yaml" in error


def test_format_data_is_what_the_headers_give() -> None:
    """formats/data.json is generated (scripts/gen-format-data), not typed: it must match the
    UAPI headers installed here, for both architectures."""
    subprocess.run([str(REPO / "scripts" / "gen-format-data"), "--check"], check=True)
    data = json.loads((REPO / "src" / "ebpf_hub" / "formats" / "data.json").read_text())
    assert data["syscalls"]["x86_64"]["257"] == data["syscalls"]["aarch64"]["56"] == "openat"
    assert data["flags"]["x86_64"]["open"]["O_DIRECTORY"] == 0o200000
    assert data["flags"]["aarch64"]["open"]["O_DIRECTORY"] == 0o40000


def test_a_misspelt_format_is_refused_at_its_line(tmp_path: Path) -> None:
    """The package schema knows the formats: a typo is one line naming the file and line."""
    manifest, result = build_edited(
        PROBE, tmp_path, lambda text: text.replace("    ret: errno\n", "    ret: errnum\n")
    )
    assert result.returncode != 0
    line = next(
        n for n, text in enumerate(manifest.read_text().splitlines(), 1) if "errnum" in text
    )
    assert f"{manifest}:{line}: output.fields.ret: 'errnum' is not valid" in result.stderr
    assert "A format: errno, signal, flags" in result.stderr
