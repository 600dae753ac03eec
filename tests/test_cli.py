"""The command line is assembled from its groups; a known command builds only its own group."""

from __future__ import annotations

import argparse

import pytest

from ebpf_hub.cli import COMMAND_GROUPS, build_parser, main
from ebpf_hub.commands import client


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(action.choices)


def test_each_group_declares_exactly_the_commands_it_registers() -> None:
    declared: list[str] = []
    for group in COMMAND_GROUPS:
        parser = argparse.ArgumentParser()
        group.register(parser.add_subparsers())
        assert _subcommands(parser) == set(group.COMMANDS), group.__name__
        declared.extend(group.COMMANDS)
    assert len(declared) == len(set(declared)), "a command name is in two groups"
    assert _subcommands(build_parser()) == set(declared)


def test_a_known_command_parses_the_same_with_only_its_group() -> None:
    argv = ["install", "execsnoop@1.2", "--allow-unsigned"]
    assert _subcommands(build_parser("install")) == set(client.COMMANDS)
    assert vars(build_parser("install").parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_an_unknown_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["instal", "execsnoop"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'instal'" in error
    assert "'install'" in error and "'validate'" in error and "'site'" in error
