"""Commands for air-gapped machines: export packages into one file, import it there."""

from __future__ import annotations

import argparse
from pathlib import Path

from ebpf_hub.client.console import say, show_json
from ebpf_hub.commands.client import add_client_options, settings_from
from ebpf_hub.commands.common import add_command
from ebpf_hub.safetext import escape


def cmd_export(args: argparse.Namespace) -> int:
    from ebpf_hub.client.bundle import export_bundle

    bundle = export_bundle(settings_from(args), args.packages, Path(args.out))
    for version in bundle.versions:
        say(f"exported {version.name} {version.version} ({version.digest[:19]})")
    say(f"wrote {escape(str(bundle.path))}; its signed index expires {bundle.expires}")
    if args.json:
        show_json(bundle.to_json())
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ebpf_hub.client.bundle import import_bundle

    bundle = import_bundle(settings_from(args), Path(args.file))
    for version in bundle.versions:
        say(f"imported {version.name} {version.version} ({version.digest[:19]}), verified")
    say(f"installable with no network until {bundle.expires} (the signed index's expiry)")
    if args.json:
        show_json(bundle.to_json())
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = add_command(
        commands,
        "export",
        cmd_export,
        "write packages and everything that verifies them into one file",
        "Resolve each NAME[@VERSION] as `install` does, verify it (signed index, digest, "
        "signature), and write an offline bundle: an OCI image layout archive holding the "
        "artifacts, their signatures and referrers, and the hub's signed index files they "
        "need. `ebpf-hub import FILE` on a machine with no network makes them installable.",
    )
    export.add_argument("packages", nargs="+", metavar="NAME[@VERSION]")
    export.add_argument("--out", required=True, metavar="FILE", help="the bundle to write")
    add_client_options(export, registry=True, trust=False)
    export.add_argument("--public-key", metavar="FILE", help="the hub's signing public key")

    imported = add_command(
        commands,
        "import",
        cmd_import,
        "verify an offline bundle and make its packages installable with no network",
        "Unpack FILE (refusing links, paths out of it and oversized entries), verify the hub's "
        "index files in it against the root installed for the hub (`trust install-root`), "
        "expiry included, then each artifact: pinned by that index, every digest, the "
        "signature against the configured key. `install NAME` and `run NAME` then work "
        "offline until the index expires.",
    )
    imported.add_argument("file", metavar="FILE")
    add_client_options(imported, trust=False)
    imported.add_argument("--public-key", metavar="FILE", help="the hub's signing public key")
