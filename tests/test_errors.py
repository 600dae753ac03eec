"""Errors as a script and a user meet them: the hint as its own `--json` key, the one error
`info` may pass over (nothing installable) told apart from a corrupt index entry, `doctor`
on a host without libbpf, and an errors module that costs nothing to import.

Each runs the real CLI: in a subprocess where the environment or the exit matters, else
through `main`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from hubrepo import SAMPLE, make_hub, write_package

HUB_ENV = ("EBPF_HUB_URL", "EBPF_HUB_REGISTRY", "EBPF_HUB_PUBLIC_KEY", "EBPF_HUB_LIBBPF")


def ebpf_hub(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`ebpf-hub ARGS` in a fresh interpreter, with an empty home and none of the user's hub."""
    environ = {k: v for k, v in os.environ.items() if k not in HUB_ENV}
    environ.update(EBPF_HUB_HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), **env)
    return subprocess.run(
        [sys.executable, "-m", "ebpf_hub.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home, for the in-process runs too."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    for variable in HUB_ENV:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "home"


def test_json_errors_carry_the_hint_as_its_own_key(home: Path) -> None:
    result = ebpf_hub("info", "execsnoop@", "--json", home=home)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "error": "'execsnoop@': nothing after '@'",
        "hint": "write NAME@VERSION, e.g. execsnoop@1.2",
    }
    # people still get the one line, cause and next step joined as before
    assert result.stderr == (
        "ebpf-hub: error: 'execsnoop@': nothing after '@'; write NAME@VERSION, e.g. execsnoop@1.2\n"
    )
    assert "Traceback" not in result.stderr

    without = ebpf_hub("install", "Not_A_Name", "--json", home=home)
    assert without.returncode == 1
    assert json.loads(without.stdout)["hint"] is None

    plain = ebpf_hub("info", "execsnoop@", home=home)
    assert plain.returncode == 1 and plain.stdout == ""


def test_json_errors_are_escaped(home: Path) -> None:
    """A name pasted with a terminal escape in it reaches neither stream raw."""
    result = ebpf_hub("info", "evil\x1b]0;owned\x07", "--json", home=home)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert "\x07" not in result.stdout + result.stderr
    assert "\\x1b" in json.loads(result.stdout)["error"]


@pytest.fixture
def local_hub(tmp_path: Path, home: Path) -> Path:
    """A local hub (index files only, nothing published) with package `sample`."""
    root = make_hub(tmp_path / "hub")
    write_package(root, "sample", SAMPLE)
    out = tmp_path / "site"
    assert main(["index", "--root", str(root), "--out", str(out)]) == 0
    return out


def rewrite_entry(hub: Path, change: dict[str, Any]) -> None:
    """Change every version of `sample`'s entry in the hub's packages/sample.json."""
    path = hub / "api/v1/packages/sample.json"
    entry = json.loads(path.read_text())
    for version in entry["versions"]:
        version.update(change)
    path.write_text(json.dumps(entry))


def test_info_still_describes_a_package_with_nothing_installable(
    local_hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rewrite_entry(local_hub, {"yanked": "withdrawn"})
    assert main(["info", "sample", "--hub", str(local_hub)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sample: Count sample events")
    assert "yanked: withdrawn" in out and "version 1.1.0:" not in out


def test_info_reports_a_corrupt_index_entry(
    local_hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version the schema lets through but that is no semantic version is the hub's fault:
    `info` says so, rather than describing the package as having nothing to install."""
    rewrite_entry(local_hub, {"version": "1.0"})
    capsys.readouterr()
    assert main(["info", "sample", "--hub", str(local_hub), "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "error": "sample: the hub lists version '1.0', which is not a semantic version",
        "hint": "report it to the hub",
    }
    assert err.startswith("ebpf-hub: error: sample: the hub lists version '1.0'")


def test_doctor_reports_a_missing_libbpf(tmp_path: Path, home: Path) -> None:
    missing = tmp_path / "nowhere" / "libbpf.so.1"
    result = ebpf_hub("doctor", home=home, EBPF_HUB_LIBBPF=str(missing))
    assert "Traceback" not in result.stderr
    assert re.search(
        rf"^no\s+libbpf\s+cannot load libbpf: {re.escape(str(missing))}: .*"
        r"\(install libbpf 1\.1 or later .*EBPF_HUB_LIBBPF\)$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    # nothing can be loaded without it: the probes are skipped, and the host is not ready
    assert re.search(r"^FAIL\s+program types\s+not probed", result.stdout, re.MULTILINE)
    assert "tracepoint programs" not in result.stdout
    assert result.returncode == 1

    as_json = ebpf_hub("doctor", "--json", home=home, EBPF_HUB_LIBBPF=str(missing))
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    [libbpf] = [check for check in report["checks"] if check["name"] == "libbpf"]
    assert libbpf["ok"] is False and libbpf["required"] is False
    assert "EBPF_HUB_LIBBPF" in libbpf["hint"]
    assert report["ok"] is False


def test_run_without_libbpf_is_one_error_line(tmp_path: Path, home: Path) -> None:
    missing = tmp_path / "nowhere" / "libbpf.so.1"
    obj = tmp_path / "empty.bpf.o"
    obj.write_bytes(b"")
    result = ebpf_hub("run", str(obj), "--yes", "--json", home=home, EBPF_HUB_LIBBPF=str(missing))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("ebpf-hub: error: ")


def imported(module: str) -> tuple[list[str], str]:
    """The ebpf_hub modules importing `module` loads, from sys.modules, and -X importtime's log."""
    code = f"import sys, {module}; print([m for m in sys.modules if m.startswith('ebpf_hub')])"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.replace("'", '"')), result.stderr


def test_the_errors_module_imports_nothing_heavy() -> None:
    modules, log = imported("ebpf_hub.errors")
    assert sorted(modules) == ["ebpf_hub", "ebpf_hub.errors"]
    timed = {line.rsplit("|", 1)[1].strip() for line in log.splitlines() if "|" in line}
    assert {name for name in timed if name.startswith("ebpf_hub")} == {
        "ebpf_hub",
        "ebpf_hub.errors",
    }

    # the runner's errors load no libbpf either: doctor needs them on a host without it
    modules, _ = imported("ebpf_hub.run.errors")
    assert "ebpf_hub.run.libbpf" not in modules
