"""What every command module shares: registering a subcommand, the hub checkout option."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ebpf_hub.index.config import HubConfig

Handler = Callable[[argparse.Namespace], int]


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help_text: str,
    description: str,
) -> argparse.ArgumentParser:
    """A subcommand whose `handler(args)` returns the exit status."""
    sub = commands.add_parser(name, help=help_text, description=description)
    sub.set_defaults(handler=handler)
    return sub


def add_root(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--root",
        metavar="DIR",
        help="hub checkout to work on (default: the one containing the current directory)",
    )


def hub_config(args: argparse.Namespace) -> HubConfig:
    """The hub checkout named by --root, or found upwards from the current directory."""
    from ebpf_hub.index.config import find_root, load_config

    root = Path(args.root).resolve() if args.root else find_root(Path.cwd().resolve())
    return load_config(root)


def split_spec(spec: str) -> tuple[str, str | None]:
    """`NAME@VERSION` -> (NAME, VERSION); `NAME` -> (NAME, None)."""
    name, _, version = spec.partition("@")
    return name, version or None
