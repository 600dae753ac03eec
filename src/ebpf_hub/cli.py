"""The `ebpf-hub` command line: parsing and output only; each command calls one function.

Commands live in `ebpf_hub.commands.*`, one module per group; their heavy imports happen inside
the handlers, so `ebpf-hub --help` and quick commands start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ebpf_hub import __version__
from ebpf_hub.commands import build, client, develop, index, run, site
from ebpf_hub.errors import HubError

COMMAND_GROUPS = (index, build, client, run, develop, site)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ebpf-hub",
        description="Publish, find, install and run eBPF programs as OCI artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except HubError as exc:
        print(f"ebpf-hub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ebpf-hub: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
