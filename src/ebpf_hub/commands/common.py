"""What every command module shares: registering a subcommand, the hub checkout option."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

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


def signing_key(args: argparse.Namespace) -> ec.EllipticCurvePrivateKey | None:
    """The key `publish` signs with (--sign-key, else $EBPF_HUB_SIGNING_KEY), None with
    --no-sign; an encrypted key's passphrase is asked on the terminal if the environment
    does not give it."""
    from ebpf_hub.client.console import ask_secret
    from ebpf_hub.oci.keys import load_private_key

    if args.no_sign:
        return None
    return load_private_key(Path(args.sign_key) if args.sign_key else None, ask=ask_secret)


def split_spec(spec: str) -> tuple[str, str | None]:
    """`NAME@VERSION` -> (NAME, VERSION); `NAME` -> (NAME, None)."""
    name, _, version = spec.partition("@")
    return name, version or None
