"""The command-line reference, taken from the parser's own help so it never drifts.

Every subcommand (and any subcommand of a subcommand) is found by walking the parser, so a
command added to `ebpf_hub.cli` appears here without touching this module. argparse offers no
public way to list subparsers; `_SubParsersAction` and `_choices_actions` are what tools such
as sphinx-argparse read too.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator
from typing import cast

from ebpf_hub.site.markup import code, prose

# Help is wrapped at a fixed width, not the terminal's, so every build gives the same page.
HELP_WIDTH = 80


def cli_reference(parser: argparse.ArgumentParser) -> str:
    """One section per command: its one-line summary and its full `--help` output."""
    sections = [_section(parser, parser.description or "")]
    sections += [_section(sub, summary) for sub, summary in _commands(parser)]
    return "\n".join(sections)


def _commands(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """Every subcommand below `parser`, depth first, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                yield sub, choice.help or ""
                yield from _commands(sub)


def _section(parser: argparse.ArgumentParser, summary: str) -> str:
    formatter = cast(type[argparse.HelpFormatter], parser.formatter_class)
    parser.formatter_class = functools.partial(formatter, width=HELP_WIDTH)
    anchor = "cli-" + "-".join(parser.prog.split()[1:] or ["main"])
    lead = prose(summary[:1].upper() + summary[1:].rstrip(".")) + ".\n\n" if summary else ""
    return (
        f"## {code(parser.prog)} {{ #{anchor} }}\n\n{lead}"
        f"```text\n{parser.format_help().rstrip()}\n```\n"
    )
