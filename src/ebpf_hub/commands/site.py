"""The catalogue website: site build, site serve."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import say
from ebpf_hub.commands.common import add_command, add_root, hub_config
from ebpf_hub.commands.index import (
    add_digest_options,
    add_matrix_option,
    published_digests,
    recorded_matrices,
)
from ebpf_hub.errors import HubError

if TYPE_CHECKING:
    from ebpf_hub.index.config import HubConfig
    from ebpf_hub.index.jsonindex import Digests
    from ebpf_hub.model.matrix import Matrices
    from ebpf_hub.site.build import IndexSigner

# The `site` extra of pyproject.toml: each distribution by the module it installs.
SITE_EXTRA = {"mkdocs": "mkdocs", "material": "mkdocs-material", "nh3": "nh3"}


def _require_site_extra() -> None:
    """Stop in one line when the site's dependencies are not installed.

    They are an extra for hub maintainers, so `pip install ebpf-hub` gives a client without
    them; without this check the build would end in a traceback from deep inside it.
    """
    for module, distribution in SITE_EXTRA.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            raise HubError(
                f"the site commands need {distribution}, which a client install leaves out",
                hint="install the extra: pip install 'ebpf-hub[site]'",
            ) from None


def _published(args: argparse.Namespace, config: HubConfig) -> tuple[Digests, Matrices]:
    """The published versions' digests and kernel verdicts: the ledgers, completed from the
    registry with --digests-from-registry."""
    packages = []
    if args.digests_from_registry:  # the site build refuses an index with problems anyway
        from ebpf_hub.index.validate import validate

        packages = validate(config).packages
    digests = published_digests(args, config, packages)
    return digests, recorded_matrices(args, config, packages, digests)


def cmd_site_build(args: argparse.Namespace) -> int:
    _require_site_extra()
    from ebpf_hub.site.build import build_site

    out, config = Path(args.out), hub_config(args)
    digests, matrices = _published(args, config)
    build_site(
        config,
        out,
        digests=digests,
        registry=args.registry,
        command_line=args.command_line(),
        sign_index=_index_signer(args),
        matrices=matrices,
    )
    say(f"built the site in {out} (open {out / 'index.html'} or run `ebpf-hub site serve`)")
    return 0


def _index_signer(args: argparse.Namespace) -> IndexSigner | None:
    """With --tuf-roots: what signs the built api/v1, its online keys read before the build
    (a missing key fails at once, not after a long build)."""
    if args.tuf_roots is None:
        return None
    from ebpf_hub.trust.keys import load_online_keys
    from ebpf_hub.trust.repository import sign_index

    roots = Path(args.tuf_roots)
    keys = load_online_keys(Path(args.tuf_keys) if args.tuf_keys else None)

    def sign(api_dir: Path, previous: Path) -> object:
        return sign_index(api_dir, roots, keys, previous=previous if previous.is_dir() else None)

    return sign


def cmd_site_serve(args: argparse.Namespace) -> int:
    _require_site_extra()
    from ebpf_hub.site.serve import serve_site

    config = hub_config(args)
    digests, matrices = _published(args, config)
    serve_site(
        config,
        Path(args.out),
        host=args.host,
        port=args.port,
        digests=digests,
        registry=args.registry,
        layout=Path(args.layout) if args.layout else None,
        command_line=args.command_line(),
        matrices=matrices,
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
    add_digest_options(sub)
    add_matrix_option(sub)
    add_root(sub)


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
    build.add_argument(
        "--tuf-roots",
        metavar="DIR",
        help="sign api/v1 with TUF under this root history (`ebpf-hub trust init --roots`)",
    )
    build.add_argument(
        "--tuf-keys",
        metavar="DIR",
        help="the online TUF keys (default: $EBPF_HUB_TUF_{TARGETS,BINS,SNAPSHOT,TIMESTAMP}_KEY)",
    )
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
    serve.add_argument(
        "--layout",
        metavar="DIR",
        help="also serve the OCI layouts `publish --registry oci:DIR` wrote, read-only, as the "
        "registry --registry names (HOST:PORT/NAMESPACE, this server) at /v2/",
    )
