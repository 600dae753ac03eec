"""A signed hub for the TUF tests: keys, a root history, a small api/v1, signed and served.

Everything is real: `ebpf_hub.trust`'s ceremony and signer write the files, a StaticServer
(tests/httpserver.py) serves them on 127.0.0.1, and attacks are files changed on its disk.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import timedelta
from pathlib import Path

from ebpf_hub.httpclient import Client, RetryPolicy
from ebpf_hub.trust.ceremony import init_root
from ebpf_hub.trust.client import Notice, TrustedIndex
from ebpf_hub.trust.keys import OnlineKeys, load_online_keys
from ebpf_hub.trust.lifetimes import Lifetimes
from ebpf_hub.trust.repository import SignReport, sign_index
from httpserver import StaticServer

PACKAGES = ("execsnoop", "opensnoop", "biolatency", "tcpconnect")


def package_json(name: str, version: str = "1.0.0") -> bytes:
    return json.dumps({"name": name, "versions": [{"version": version}]}).encode()


class SignedHub:
    """A hub under `root`: `site/api/v1` (served), `roots/`, `root-keys/`, `keys/`."""

    def __init__(self, root: Path, *, root_keys: int = 1, threshold: int = 1) -> None:
        self.root = root
        self.api = root / "site" / "api" / "v1"
        self.roots = root / "roots"
        self.root_keys = root / "root-keys"
        self.keys_dir = root / "keys"
        (self.api / "packages").mkdir(parents=True)
        for name in PACKAGES:
            self.write_package(name)
        (self.api / "index.json").write_bytes(json.dumps({"packages": list(PACKAGES)}).encode())
        init_root(
            self.roots, self.root_keys, self.keys_dir, root_keys=root_keys, threshold=threshold
        )
        self.server = StaticServer(root / "site")
        self.url = self.server.url

    def write_package(self, name: str, version: str = "1.0.0") -> None:
        (self.api / "packages" / f"{name}.json").write_bytes(package_json(name, version))

    def keys(self) -> OnlineKeys:
        return load_online_keys(self.keys_dir)

    def sign(self, lifetimes: Lifetimes | None = None) -> SignReport:
        return sign_index(self.api, self.roots, self.keys(), lifetimes=lifetimes)

    def root_bytes(self, version: int = 1) -> bytes:
        return (self.roots / f"{version}.root.json").read_bytes()

    def metadata(self) -> Path:
        return self.api / "tuf"

    def save(self, name: str) -> Path:
        """A copy of the served metadata as it is now (for replaying it later)."""
        copy = self.root / name
        shutil.copytree(self.metadata(), copy)
        return copy

    def serve_metadata(self, saved: Path) -> None:
        """Serve `saved` (from `save`) as the hub's metadata from now on."""
        shutil.rmtree(self.metadata())
        shutil.copytree(saved, self.metadata())

    def stop(self) -> None:
        self.server.stop()


def expired(lifetimes: Lifetimes, role: str) -> Lifetimes:
    """`lifetimes` with `role`'s metadata already expired when signed."""
    return dataclasses.replace(lifetimes, **{role: timedelta(seconds=-60)})


def http_client() -> Client:
    """A client that does not wait between retries: a stopped hub fails at once."""
    return Client(timeout=5, retry=RetryPolicy(retries=0))


def trusted(hub: SignedHub, client: Client, notice: Notice | None = None) -> TrustedIndex:
    """The hub's index as a client trusting its first root sees it."""
    return TrustedIndex(hub.url, client, root=hub.root_bytes(), notice=notice)
