"""Terminal escape injection and echoed input (issue #11), performed as an attacker would:
control sequences in a package file, in a hub's index, in a file name another local user
opens while root traces opens; a huge `--param`; a reader that closes the pipe early. The CLI
runs in a subprocess with its output in a pipe, and no raw control byte may come out."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from hubrepo import REPO, SAMPLE, make_hub, write_package

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
CONCEAL = "\x1b[8m"  # SGR 8: what follows is invisible
OSC_TITLE = "\x1b]0;owned\x07"  # sets the terminal's title
C1_CSI = "\x9b2J"  # CSI in one C1 character: clears the screen on terminals that obey C1
RLO = "\u202e"  # right-to-left override ("Trojan Source")
# Raw control bytes in UTF-8 output: C0 and DEL, C1 (U+0080-U+009F), bidi controls.
RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]")


def assert_no_raw_controls(output: bytes) -> None:
    found = RAW_CONTROL.search(output)
    assert found is None, f"raw control {found.group()!r} in {output[:2000]!r}"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [EBPF_HUB, *args],
        capture_output=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# --- validate refuses them in every text field ---


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "summary: Count sample events per process for testing",
            'summary: "Count sample events\\e[8m per process"',
            "summary",
        ),
        (
            "changes: Adds the uid",
            'changes: "Adds the uid\\e]0;owned\\a"',
            "versions[1].changes",
        ),
        (
            "changes: First release",
            'changes: First release\n    yanked: "broken \\x9b2J"',
            "versions[0].yanked",
        ),
        ("  - name: Test Maintainer", f"  - name: Test {RLO}Maintainer", "maintainers[0].name"),
        ("  - name: Test Maintainer", "  - name: Test\u200bMaintainer", "maintainers[0].name"),
        (
            "    section: tracepoint/syscalls/sys_enter_execve",
            '    section: tracepoint/syscalls/sys_enter_execve\n    description: "watch\\rexec"',
            "programs[0].description",
        ),
        (
            "description: |\n  A package the tests use; it traces exec() calls.",
            'description: "A package the tests use;\\n\\x9b2J it traces exec() calls."',
            "description",
        ),
    ],
)
def test_validate_refuses_control_characters_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, field: str
) -> None:
    root = make_hub(tmp_path)
    assert old in SAMPLE
    write_package(root, "sample", SAMPLE.replace(old, new))
    assert main(["validate", "--root", str(root)]) == 1
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert re.fullmatch(
        rf"index/packages/sample\.yaml:\d+: {re.escape(field)}: contains control or invisible "
        r"characters: (\\x[0-9a-f]{2}|\\u[0-9a-f]{4})( \S+)* \(hint: remove them; .*\)",
        line,
    ), line
    assert_no_raw_controls(captured.out.encode() + captured.err.encode())


def test_validate_allows_line_breaks_and_tabs_in_the_description_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_hub(tmp_path)
    markdown = SAMPLE.replace(
        "description: |\n  A package the tests use; it traces exec() calls.",
        'description: "A package the tests use:\\n\\n\\tit traces exec() calls."',
    )
    write_package(root, "sample", markdown)
    assert main(["validate", "--root", str(root)]) == 0
    write_package(root, "sample", SAMPLE.replace("changes: Adds the uid", 'changes: "a\\tb"'))
    assert main(["validate", "--root", str(root)]) == 1
    assert "versions[1].changes: contains control" in capsys.readouterr().out


# --- a hostile hub: what info, search and errors print ---


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real index, then rewritten by whoever controls the hub (or a file that got past
    an older validate): escapes in the summary, keywords, changes and a yanked reason."""
    site = tmp_path_factory.mktemp("site")
    assert main(["index", "--root", str(REPO), "--out", str(site)]) == 0
    api = site / "api" / "v1"
    summary = f"Trace execs{CONCEAL} and steal keys{OSC_TITLE} {C1_CSI}{RLO}"

    def rewrite(path: Path, change: Any) -> None:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    def index(data: dict[str, Any]) -> None:
        for package in data["packages"]:
            if package["name"] == "execsnoop":
                package["summary"] = summary

    def package(data: dict[str, Any]) -> None:
        data["summary"] = summary
        data["versions"][-1]["changes"] = f"fixes{OSC_TITLE}\nlicense  MIT (forged line)"

    rewrite(api / "index.json", index)
    rewrite(api / "packages" / "execsnoop.json", package)
    return site


@pytest.fixture
def user_env(tmp_path: Path, hostile_site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env.update(EBPF_HUB_HOME=str(tmp_path / "home"), EBPF_HUB_URL=f"file://{hostile_site}")
    return env


def test_info_and_search_escape_a_hostile_hub(user_env: dict[str, str]) -> None:
    info = cli("info", "execsnoop", env=user_env)
    assert info.returncode == 0, info.stderr
    assert_no_raw_controls(info.stdout + info.stderr)
    text = info.stdout.decode()
    assert text.startswith(
        "execsnoop: Trace execs\\x1b[8m and steal keys\\x1b]0;owned\\x07 \\x9b2J\\u202e\n"
    )
    assert "fixes\\x1b]0;owned\\x07\\x0alicense  MIT (forged line)" in text
    assert not any(line.startswith("license") for line in text.splitlines()), "no forged line"
    search = cli("search", "exec", env=user_env)
    assert search.returncode == 0, search.stderr
    assert_no_raw_controls(search.stdout + search.stderr)
    assert b"Trace execs\\x1b[8m and steal keys" in search.stdout


def test_json_output_stays_valid_json_with_every_control_escaped(user_env: dict[str, str]) -> None:
    for command in (["info", "execsnoop"], ["search", "exec"]):
        result = cli(*command, "--json", env=user_env)
        assert result.returncode == 0, result.stderr
        assert_no_raw_controls(result.stdout)
        assert result.stdout.isascii()
        data = json.loads(result.stdout)
        found = (
            data if isinstance(data, dict) else next(p for p in data if p["name"] == "execsnoop")
        )
        assert found["summary"].startswith(f"Trace execs{CONCEAL}"), "the data is intact"


def test_an_error_quoting_hub_data_stays_escaped_and_short(
    user_env: dict[str, str], hostile_site: Path, tmp_path: Path
) -> None:
    """A guard more than an attack: this path was already safe (the index schema's message
    quotes JSON-escaped and cut values); the error line now passes `console.say` as well."""
    site = tmp_path / "site"
    shutil.copytree(hostile_site, site)
    path = site / "api" / "v1" / "packages" / "execsnoop.json"
    data = json.loads(path.read_text())
    data["versions"][0]["version"] = f"1.0.0-{OSC_TITLE}{'x' * 5000}"
    path.write_text(json.dumps(data))
    result = cli("info", "execsnoop", env={**user_env, "EBPF_HUB_URL": f"file://{site}"})
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("ebpf-hub: error: ") and len(line) < 400, line
    assert_no_raw_controls(result.stdout + result.stderr)


# --- echoed input is short; a closed pipe is no traceback ---


def test_a_huge_package_name_is_echoed_short(user_env: dict[str, str]) -> None:
    result = cli("info", "x" * 5000 + "\x1b[2J", env=user_env)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert len(line) < 300 and "(5004 characters)" in line, line


def test_info_into_a_closed_pipe_ends_quietly(user_env: dict[str, str]) -> None:
    shell = subprocess.run(
        ["sh", "-c", f"'{EBPF_HUB}' info execsnoop | head -c1"],
        capture_output=True,
        env=user_env,
        check=False,
    )
    assert len(shell.stdout) == 1
    assert shell.stderr == b""
    # Deterministic: the reader is gone before the first byte is written.
    proc = subprocess.Popen(
        [EBPF_HUB, "info", "execsnoop"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=user_env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 141
    assert err == b"", err


# --- run: the prompt, a huge parameter, events named by another user ---

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")


@pytest.fixture
def hostile_checkout(tmp_path: Path) -> Path:
    """A hub checkout whose opensnoop metadata carries escapes, as `run DIR` reads it."""
    root = make_hub(tmp_path / "hub")
    shutil.copytree(REPO / "sources" / "opensnoop", root / "sources" / "opensnoop")
    text = (REPO / "index" / "packages" / "opensnoop.yaml").read_text()
    hostile = 'summary: "Opens\\e[8m - attaches to nothing"'
    text = re.sub(r"(?m)^summary: .*$", lambda _: hostile, text)
    write_package(root, "opensnoop", text)
    return root / "sources" / "opensnoop"


@root_only
def test_run_prompt_escapes_the_package_summary(hostile_checkout: Path) -> None:
    result = cli("run", str(hostile_checkout))  # no --yes, stdin not a terminal: refused
    assert result.returncode == 1
    assert_no_raw_controls(result.stdout + result.stderr)
    assert b"Opens\\x1b[8m - attaches to nothing" in result.stderr


@root_only
def test_a_huge_parameter_value_is_echoed_short(hostile_checkout: Path) -> None:
    result = cli("run", str(hostile_checkout), "--yes", "--param", "target_pid=" + "9" * 5000)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert len(line) < 300, line
    assert line.startswith("ebpf-hub: error: parameter target_pid (pid_t): '99999")


@root_only
@pytest.mark.skipif(not shutil.which("runuser"), reason="needs runuser to act as nobody")
def test_run_table_escapes_a_file_name_another_user_opens() -> None:
    """Root watches opens in columns; `nobody` opens a file whose name is an escape
    sequence (conceal, then a C1 CSI and a bidi override): the name is printed escaped."""
    directory = Path(tempfile.mkdtemp(prefix="ebpf-hub-names-"))
    directory.chmod(0o777)
    name = f"x{CONCEAL}{C1_CSI}{RLO}y"
    runner = subprocess.Popen(
        [EBPF_HUB, "run", str(REPO / "sources" / "opensnoop"), "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert runner.stderr is not None
        while b" attached " not in runner.stderr.readline():
            assert runner.poll() is None, "the runner exited early"
        opener = f"open({str(directory / name)!r}, 'w').close()"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the first events may be buffered: open a few
            nobody = ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", opener]
            subprocess.run(nobody, check=False)
            time.sleep(0.2)
    finally:
        runner.send_signal(signal.SIGINT)
        out, _ = runner.communicate(timeout=30)
        shutil.rmtree(directory)
    assert_no_raw_controls(out)
    assert b"x\\x1b[8m\\x9b2J\\u202ey" in out
