"""A built catalogue for browser tests: what a site build reads, and the site served on
127.0.0.1 as a static host would serve it (directories answer with their index.html)."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hubrepo import REPO

#: What a site build reads besides the index and the sources.
SITE_INPUTS = ("site", "schema", "mkdocs.yml", "SECURITY.md")


def copy_site_inputs(hub: Path) -> None:
    """Copy this repository's hand-written pages, schemas, MkDocs file and threat model
    into the hub checkout `hub`."""
    for part in SITE_INPUTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, hub / part)
        else:
            shutil.copy(source, hub / part)


@dataclass(frozen=True)
class Served:
    """A built site and the URL it is served at."""

    root: Path
    url: str


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_site(out: Path) -> Iterator[Served]:
    """Serve the built site `out` on a free port of 127.0.0.1 until the block ends."""
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(out, f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()
