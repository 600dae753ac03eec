"""What the seed authors found in `ebpf-hub test` and `init --from` (issue #15): `test` took
only a directory; `init --from` printed clang's errors as one line, wrote one architecture
where the build makes two, and a placeholder maintainer where git knows the author.

Real tools (tests/data/authoring), the real compiler for both architectures, the kernel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.cli import main
from hubrepo import REPO, make_hub
from kernelstate import held_prog_ids

TOOLS = REPO / "tests" / "data" / "authoring"
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")


@pytest.fixture
def no_git_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A user whose git configuration names nobody (the tests' own is the hub's)."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def _tool(tmp_path: Path, name: str) -> Path:
    """A copy of a test tool outside any git repository."""
    tool = tmp_path / "tools" / name
    shutil.copytree(TOOLS / name, tool)
    return tool


def _manifest(directory: Path) -> dict[str, object]:
    data = yaml.safe_load((directory / "ebpf-hub.yaml").read_text())
    assert isinstance(data, dict)
    return data


@root_only
def test_test_takes_a_package_name_of_the_hub_checkout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As `build NAME` does: the newest version (or NAME@VERSION) built from its pinned
    sources, attached, triggered by its own ./trigger, detached."""
    before = held_prog_ids(os.getpid())
    assert main(["test", "killsnoop", "--root", str(REPO)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "killsnoop.bpf.o: attached trace_kill_enter" in err
    assert "ok killsnoop@" in err and "produced output, detached" in err
    assert held_prog_ids(os.getpid()) == before
    assert main(["test", "killsnoop@0.0.1", "--root", str(REPO)]) == 1
    assert "killsnoop@0.0.1: no such package version in the index" in capsys.readouterr().err
    assert main(["test", "no-such-tool", "--root", str(REPO)]) == 1
    assert "no-such-tool: no such package" in capsys.readouterr().err


def test_init_from_prints_clangs_lines_as_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _tool(tmp_path, "exitsnoop")
    source = tool / "exitsnoop.bpf.c"
    source.write_text(source.read_text().replace("return 0;", "undeclared = 1;\n\treturn 0;", 1))
    assert main(["init", str(tmp_path / "pkg"), "--from", str(tool)]) == 1
    err = capsys.readouterr().err
    assert "\\x0a" not in err
    lines = err.splitlines()
    diagnostic = next(line for line in lines if "use of undeclared identifier" in line)
    assert ": error: " in diagnostic and not diagnostic.startswith("ebpf-hub: error: ")
    assert lines[-1] == (
        "ebpf-hub: error: pkg: exitsnoop.bpf.c does not compile (clang exit 1); fix the "
        "errors above"
    )
    assert lines.index(diagnostic) < len(lines) - 1
    assert not (tmp_path / "pkg").exists()


def test_init_from_lists_every_architecture_the_build_makes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_git_user: None
) -> None:
    """sigsnoop compiles for both of the builder's architectures; `build` checks each."""
    directory = tmp_path / "sigsnoop"
    assert main(["init", str(directory), "--from", str(_tool(tmp_path, "sigsnoop"))]) == 0
    capsys.readouterr()
    requires = _manifest(directory)["requires"]
    assert isinstance(requires, dict)
    host = toolchain().arch  # first, as build/platforms.py builds it first
    assert requires["architectures"] == [host, *sorted({"x86_64", "aarch64"} - {host})]


def test_init_from_names_the_git_author_else_says_the_placeholder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_git_user: None
) -> None:
    tool = _tool(tmp_path, "exitsnoop")
    placeholder = tmp_path / "nobody"
    assert main(["init", str(placeholder), "--from", str(tool)]) == 0
    err = capsys.readouterr().err
    assert "the maintainer is the placeholder 'Your Name', which ebpf-hub submit refuses" in err
    assert _manifest(placeholder)["maintainers"] == [{"name": "Your Name"}]
    hub = make_hub(tmp_path / "hub")
    assert main(["submit", str(placeholder), "--local", "--hub-root", str(hub)]) == 1
    assert "maintainers[0].name: still the placeholder 'Your Name'" in capsys.readouterr().err

    subprocess.run(["git", "init", "-q", str(tool)], check=True)
    for key, value in (("user.name", "Ada Lovelace"), ("user.email", "ada@example.org")):
        subprocess.run(["git", "-C", str(tool), "config", key, value], check=True)
    named = tmp_path / "named"
    assert main(["init", str(named), "--from", str(tool)]) == 0
    assert "placeholder" not in capsys.readouterr().err
    assert _manifest(named)["maintainers"] == [{"name": "Ada Lovelace", "email": "ada@example.org"}]
