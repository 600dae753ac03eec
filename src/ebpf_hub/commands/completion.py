"""Shell completion: `ebpf-hub completion bash|zsh|fish` prints the script that enables it.

argcomplete does the work, chosen over shtab for two reasons: it completes fish as well as
bash and zsh (shtab has no fish), and its scripts ask the program itself at TAB time, so
package names come from Python that reads the hub index, with one set of completers for the
three shells, instead of a hand-written shell function per shell. What that costs, a Python
start-up per TAB, stays small the way every command keeps it small: only the invoked group's
parsers are built, and argcomplete is imported only when the shell asks (`COMPLETING` set);
a normal run never imports it.

Package names come from the index as last fetched (`HubIndex(offline=True)`): no network at
TAB time, whatever state the network is in. Names of installed packages come from the
install records.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Optional

from ebpf_hub.commands.common import add_command
from ebpf_hub.errors import HubError
from ebpf_hub.safetext import escape

COMPLETING = "_ARGCOMPLETE"  # set by the completion scripts when the shell asks
SHELLS = ("bash", "zsh", "fish")
PROGRAM = "ebpf-hub"
_DESCRIPTION_LIMIT = 60  # characters of a summary shown beside a name (zsh, fish)

Completer = Callable[..., Mapping[str, str]]
ParserFactory = Callable[[Optional[str]], argparse.ArgumentParser]


def cmd_completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    # written as it is: the script is argcomplete's text, and `show` would escape its lines
    sys.stdout.write(shellcode([PROGRAM], shell=args.shell).strip() + "\n")
    return 0


def complete(build_parser: ParserFactory) -> None:
    """Answer the shell's completion request, then exit (argcomplete ends the process).

    Only the group of the command already typed is built, as for a normal run; while the
    command itself is being typed, all of them.
    """
    from argcomplete.finders import CompletionFinder

    class Finder(CompletionFinder):
        """argcomplete's finder, dropping duplicate answers in linear time: its own check is
        quadratic, seconds of a TAB among the 10,000 names of a large hub."""

        def filter_completions(self, completions: list[str]) -> list[str]:
            excluded = self.exclude or ()
            return [answer for answer in dict.fromkeys(completions) if answer not in excluded]

    parser = build_parser(typed_command(os.environ.get("COMP_LINE", ""), _point()))
    attach_completers(parser)
    # options only once a '-' is typed: `install <TAB>` offers package names alone
    Finder()(parser, always_complete_options=False)


def typed_command(line: str, point: int) -> str | None:
    """The command word of `line` up to the cursor, once the cursor has left it."""
    before = line[:point]
    words = before.split()
    complete_words = words[1:] if before.endswith(" ") else words[1:-1]
    return next((word for word in complete_words if not word.startswith("-")), None)


def hub_packages(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> Mapping[str, str]:
    """Package names and their summaries, or NAME@VERSION once an '@' is typed (yanked
    versions left out, as `install` leaves them out), from the index as last fetched.

    A prefix that looks like a path or a reference gets nothing, so the shell completes
    file names instead (`run ./x.bpf.o`, `pull oci:DIR:TAG`).
    """
    from ebpf_hub.client.hubindex import HubIndex
    from ebpf_hub.commands.client import settings_from

    if prefix.startswith((".", "~")) or "/" in prefix or ":" in prefix:
        return {}
    name, at, _version = prefix.partition("@")
    try:
        with HubIndex(settings_from(parsed_args), offline=True) as hub:
            if at:
                versions = hub.package(name).versions
                return {f"{name}@{v.version}": v.created for v in versions if v.yanked is None}
            return {p.name: _described(p.summary) for p in hub.summaries()}
    except HubError:  # nothing cached yet, a broken config: no names, no noise at TAB
        return {}


def installed_packages(**_: Any) -> Mapping[str, str]:
    """Names of installed packages, each described by its installed version."""
    from ebpf_hub.client.installed import list_installed

    try:
        return {package.name: package.version for package in list_installed()}
    except HubError:
        return {}


# (command, argument) -> what completes it; a test checks each one exists in the parser
COMPLETERS: dict[tuple[str, str], Completer] = {
    ("info", "package"): hub_packages,
    ("install", "package"): hub_packages,
    ("export", "packages"): hub_packages,
    ("pull", "reference"): hub_packages,
    ("run", "target"): hub_packages,
    ("upgrade", "names"): installed_packages,
    ("remove", "name"): installed_packages,
}


def attach_completers(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """Give the arguments `COMPLETERS` names their completer; returns those found."""
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command, sub in action.choices.items():
            for argument in sub._actions:
                completer = COMPLETERS.get((command, argument.dest))
                if completer is not None:
                    argument.completer = completer
                    found.append((command, argument.dest))
    return found


def _described(summary: str) -> str:
    """A summary fit for the shell's menu: short, and escaped (it is the hub's text, and the
    scripts split answers at control characters: none may pass through)."""
    if len(summary) > _DESCRIPTION_LIMIT:
        summary = summary[: _DESCRIPTION_LIMIT - 1] + "…"
    return escape(summary)


def _point() -> int:
    try:
        return int(os.environ.get("COMP_POINT", ""))
    except ValueError:
        return len(os.environ.get("COMP_LINE", ""))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    completion = add_command(
        commands,
        "completion",
        cmd_completion,
        "print the shell script that completes ebpf-hub's commands and package names",
        "Print the completion script for SHELL. Enable it for bash with "
        '`eval "$(ebpf-hub completion bash)"` in ~/.bashrc, for zsh with '
        '`eval "$(ebpf-hub completion zsh)"` after `compinit` in ~/.zshrc, for fish with '
        "`ebpf-hub completion fish > ~/.config/fish/completions/ebpf-hub.fish`. Package "
        "names come from the hub index as last fetched (search, info, install, outdated): "
        "pressing TAB never reaches the network.",
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
