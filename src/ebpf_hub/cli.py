"""The `ebpf-hub` command line: parsing and output only; each command calls one function.

Commands live in `ebpf_hub.commands.*`, one module per group, imported only when one of its
commands runs (COMMAND_GROUPS says which); their heavy imports happen inside the handlers, so
`ebpf-hub --help`, quick commands and a warm `ebpf-hub run` start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from ebpf_hub import __version__
from ebpf_hub.client.console import say, show_json_line, silence
from ebpf_hub.commands import completion
from ebpf_hub.errors import HubError
from ebpf_hub.safetext import clip

# Each module of ebpf_hub.commands, in the order of the usage message, and the commands its
# `register` adds: the one module a command needs is the only one imported (all of them
# would be a fifth of a warm `ebpf-hub run`), so the table lives here, not in the modules.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "index": ("validate", "index", "hash"),
    "build": ("build",),
    "publish": ("publish", "keygen"),
    "client": ("search", "info", "install", "list", "outdated", "upgrade", "remove", "pull"),
    "bundle": ("export", "import"),
    "policy": ("policy",),
    "run": ("run", "doctor"),
    "matrix": ("matrix",),
    "develop": ("init", "test", "submit"),
    "site": ("site",),
    "completion": ("completion",),
    "trust": ("trust",),
    "verify": ("verify",),
}
START_UP_GC_THRESHOLD = 20_000  # allocations between young-generation collections (default 700)
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool ended by SIGPIPE (`yes | head`)
USAGE_ERROR_LIMIT = 400  # characters of an argument error; the longest of ours is ~250


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with its errors shown as every other message is (`clip`).

    argparse echoes the arguments it refuses, unrecognized ones raw: a word pasted from a web
    page or a README with an escape sequence in it would reach the terminal, and a huge one
    would flood it. Subcommand parsers are made of the same class.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {clip(message, USAGE_ERROR_LIMIT)}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; given the `command` about to run, only the group that defines it.

    Building every group's parsers is a few percent of a short command such as `install`;
    an unknown or missing command gets them all, for the full usage and error message.
    """
    parser = _Parser(
        prog="ebpf-hub",
        description="Publish, find, install and run eBPF programs as OCI artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # The site's CLI reference documents every command: the site commands get this function
    # as `args.command_line`, as importing this module from them would be an import cycle.
    parser.set_defaults(command_line=build_parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups = [name for name, names in COMMAND_GROUPS.items() if command in names]
    for name in groups or COMMAND_GROUPS:
        command_group(name).register(commands)
    return parser


def command_group(name: str) -> ModuleType:
    """The module `ebpf_hub.commands.NAME`, imported now: a key of COMMAND_GROUPS."""
    return importlib.import_module(f"ebpf_hub.commands.{name}")


def main(argv: Sequence[str] | None = None) -> int:
    if completion.COMPLETING in os.environ:  # the shell's TAB, through `ebpf-hub completion`
        completion.complete(build_parser)  # answers and exits
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = next((word for word in arguments if not word.startswith("-")), None)
    args = build_parser(command).parse_args(arguments)
    try:
        code: int = args.handler(args)
        # Output still buffered would meet a closed pipe at exit, where no handler runs.
        sys.stdout.flush()
    except HubError as exc:
        say(f"ebpf-hub: error: {exc}")
        if getattr(args, "json", False):  # scripts read the cause and the hint as fields
            show_json_line(exc.to_json())
        return 1
    except KeyboardInterrupt:
        say("ebpf-hub: interrupted")
        return 130
    except BrokenPipeError:
        # The reader left (`ebpf-hub info NAME | head`): stop quietly, as `cat` would.
        silence(sys.stdout)
        return EXIT_BROKEN_PIPE
    return code


def entry() -> None:
    """The `ebpf-hub` console script: `main`, with the cycle collector tuned for a short process.

    Start-up creates tens of thousands of long-lived objects (modules, classes, functions),
    and with the default thresholds the collector walks them again and again, then once more
    at exit. A larger young-generation threshold lets start-up run with few collections (they
    still run in long sessions such as `run`), and freezing what exists at exit keeps the
    final collection from walking it: together about a tenth of a cold `install` (see
    benchmarks/install.py). In-process callers (the tests) use `main` and keep the defaults.
    """
    gc.set_threshold(START_UP_GC_THRESHOLD)
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
