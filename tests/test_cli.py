"""The command line is assembled from its groups; a known command builds only its own group."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from ebpf_hub.cli import COMMAND_GROUPS, build_parser, command_group, main


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(action.choices)


def test_each_group_declares_exactly_the_commands_it_registers() -> None:
    declared: list[str] = []
    for name, commands in COMMAND_GROUPS.items():
        parser = argparse.ArgumentParser()
        command_group(name).register(parser.add_subparsers())
        assert _subcommands(parser) == set(commands), name
        declared.extend(commands)
    assert len(declared) == len(set(declared)), "a command name is in two groups"
    assert _subcommands(build_parser()) == set(declared)


def test_a_known_command_parses_the_same_with_only_its_group() -> None:
    argv = ["install", "execsnoop@1.2", "--allow-unsigned"]
    assert _subcommands(build_parser("install")) == set(COMMAND_GROUPS["client"])
    assert vars(build_parser("install").parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_an_unknown_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["instal", "execsnoop"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'instal'" in error
    assert "'install'" in error and "'validate'" in error and "'site'" in error


def test_a_command_imports_only_its_own_group() -> None:
    """`ebpf-hub run` starts without the other commands' modules (a warm run is mostly
    imports: benchmarks/first_event.py); `run` reuses the client's options."""
    code = (
        "import json, sys; from ebpf_hub.cli import build_parser; build_parser('run'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ebpf_hub.commands.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    groups = {name.rpartition(".")[2] for name in json.loads(result.stdout)}
    assert groups == {"run", "client", "common", "completion"}
