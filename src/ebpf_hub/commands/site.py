"""The catalogue website: site build, site serve."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import say
from ebpf_hub.commands.common import add_command, add_root, hub_config

if TYPE_CHECKING:
    from ebpf_hub.index.jsonindex import Digests


def _digests(args: argparse.Namespace) -> Digests:
    from ebpf_hub.index.jsonindex import load_digests

    return load_digests(Path(args.digests) if args.digests else None)


def cmd_site_build(args: argparse.Namespace) -> int:
    from ebpf_hub.site.build import build_site

    out = Path(args.out)
    build_site(hub_config(args), out, digests=_digests(args), registry=args.registry)
    say(f"built the site in {out} (open {out / 'index.html'} or run `ebpf-hub site serve`)")
    return 0


def cmd_site_serve(args: argparse.Namespace) -> int:
    from ebpf_hub.site.serve import serve_site

    serve_site(
        hub_config(args),
        Path(args.out),
        host=args.host,
        port=args.port,
        digests=_digests(args),
        registry=args.registry,
    )
    return 0


def _add_site_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--out", default="build/site", metavar="DIR", help="output directory (default: build/site)"
    )
    sub.add_argument(
        "--digests",
        metavar="FILE",
        help="digest ledger written by `ebpf-hub publish` (pins digests, parameters)",
    )
    sub.add_argument(
        "--registry",
        metavar="REGISTRY/NAMESPACE",
        help="registry the pages' references point to (default: index/hub.yaml's)",
    )
    add_root(sub)


COMMANDS = ("site",)  # what `register` adds


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    site = commands.add_parser(
        "site",
        help="build or serve the catalogue website",
        description="The static catalogue (MkDocs + Material) generated from the index, with "
        "the JSON index under api/v1/.",
    )
    actions = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    build = add_command(
        actions,
        "build",
        cmd_site_build,
        "build the site into a directory",
        "Validate the index, generate one page per package and per category, write the JSON "
        "index beside them, and build with MkDocs; the previous output is replaced only when "
        "the new one is complete.",
    )
    _add_site_options(build)
    serve = add_command(
        actions,
        "serve",
        cmd_site_serve,
        "build, serve on 127.0.0.1 and rebuild on change",
        "Build the site, serve it over HTTP and rebuild when the index, site/ or a package "
        "README changes. Ctrl-C stops.",
    )
    _add_site_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 = any)")
