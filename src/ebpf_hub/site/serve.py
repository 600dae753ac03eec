"""`serve_site`: the catalogue on a local HTTP server, rebuilt when an input changes.

Not `mkdocs serve`: it watches only the docs directory it builds, which here is a staging copy
generated from the index, so edits to a package file would never show. Instead the inputs are
polled (a few hundred stats a second, nothing to install) and a change runs the same
`build_site` as production; its atomic swap means the server always serves a whole site, and a
failed rebuild leaves the last good one in place.
"""

from __future__ import annotations

import argparse
import functools
import stat
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HubConfig, load_config
from ebpf_hub.index.jsonindex import Digests
from ebpf_hub.model.matrix import Matrices
from ebpf_hub.oci.distribution import LocalRegistry
from ebpf_hub.oci.layoutreader import LayoutReader
from ebpf_hub.oci.reference import RegistryReference, parse_reference
from ebpf_hub.site.build import build_site
from ebpf_hub.site.handler import SiteHandler

POLL_SECONDS = 0.5
# What a build reads: package files and hub.yaml, hand-written pages and theme, READMEs,
# the schemas the reference pages are generated from, the MkDocs configuration and the
# threat model (the Security page).
WATCHED = (
    "index/**/*.yaml",
    "site/**/*",
    "sources/*/README.md",
    "schema/*.json",
    "mkdocs.yml",
    "SECURITY.md",
)

Fingerprint = frozenset[tuple[str, int, int]]


def fingerprint(root: Path) -> Fingerprint:
    """Name, modification time and size of every input of a build."""
    entries = set()
    for pattern in WATCHED:
        for path in root.glob(pattern):
            try:
                status = path.stat()
            except FileNotFoundError:  # removed while we looked: the next poll sees it gone
                continue
            if stat.S_ISREG(status.st_mode):
                entries.add((path.as_posix(), status.st_mtime_ns, status.st_size))
    return frozenset(entries)


def site_handler(out: Path, layout: Path | None, registry: str | None) -> type[SiteHandler]:
    """The handler class for the site in `out` and, with `layout`, its registry at /v2/.

    The pages name `registry` (`HOST:PORT/NAMESPACE`), so the layouts are served under that
    namespace; an `oci:` registry would name files, not this server, and is refused.
    """
    local = None
    if layout is not None:
        reference = parse_reference(f"{registry}/x") if registry else None
        if not isinstance(reference, RegistryReference):
            raise HubError(
                "--layout needs --registry HOST:PORT/NAMESPACE, the name the pages give this "
                "server (scripts/up passes 127.0.0.1:PORT/local)"
            )
        namespace = reference.repository.rpartition("/")[0]
        local = LocalRegistry(LayoutReader(layout.absolute()), namespace)
    directory = str(out.absolute())

    class Handler(SiteHandler):
        registry = local

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=directory, **kwargs)

    return Handler


def serve_site(
    config: HubConfig,
    out: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    command_line: argparse.ArgumentParser,
    digests: Digests | None = None,
    registry: str | None = None,
    layout: Path | None = None,
    matrices: Matrices | None = None,
) -> None:
    """Build the site into `out`, serve it at http://HOST:PORT/ and rebuild on change, until
    interrupted (Ctrl-C). `command_line`, `digests` and `registry` are passed to every build
    (see `build_site`); `layout`, the directory `publish --registry oci:DIR` wrote, is served
    read-only at /v2/ as `registry`."""
    handler = site_handler(out, layout, registry)
    build = functools.partial(
        build_site,
        digests=digests,
        registry=registry,
        command_line=command_line,
        matrices=matrices,
    )
    build(config, out)
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(
        f"serving {out} at http://{host}:{server.server_port}/ "
        "(rebuilt when the index, site/ or a README changes; Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    seen = fingerprint(config.root)
    try:
        while True:
            time.sleep(POLL_SECONDS)
            current = fingerprint(config.root)
            if current == seen:
                continue
            seen = current
            try:
                build(load_config(config.root), out)
            except HubError as exc:
                print(f"ebpf-hub: error: {exc} (serving the last good build)", file=sys.stderr)
            else:
                print("rebuilt", file=sys.stderr, flush=True)
    finally:
        server.shutdown()
        server.server_close()
