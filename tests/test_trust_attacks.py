"""The TUF client refuses each attack on the index with one line naming it (real HTTP server
on loopback, real metadata; the clock is moved by signing with short or past expiries)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Timestamp

from ebpf_hub.errors import HubError
from ebpf_hub.httpclient import Client
from ebpf_hub.paths import cache_dir
from ebpf_hub.trust.ceremony import revoke_key, rotate_root
from ebpf_hub.trust.client import TrustedIndex
from ebpf_hub.trust.keys import load_signer
from ebpf_hub.trust.lifetimes import Lifetimes
from ebpf_hub.trust.metadata import SERIALIZER
from ebpf_hub.trust.roots import hub_key
from routedserver import Handler, Route, RoutedServer
from trusthub import SignedHub, expired, http_client, package_json, trusted


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignedHub]:
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    signed = SignedHub(tmp_path / "hub")
    signed.sign()
    try:
        yield signed
    finally:
        signed.stop()


@pytest.fixture
def client() -> Iterator[Client]:
    with http_client() as opened:
        yield opened


def refused(hub: SignedHub, client: Client, path: str = "packages/execsnoop.json") -> str:
    with pytest.raises(HubError) as caught:
        trusted(hub, client).fetch(path)
    return str(caught.value)


def metadata_requests(hub: SignedHub) -> list[tuple[str, int]]:
    """(file name, status) of each request for metadata, in order."""
    return [(path.rsplit("/", 1)[1], status) for path, status in hub.server.log if "/tuf/" in path]


def new_bin(old: Path, new: Path) -> tuple[Path, Path]:
    """The one bin re-signed between the publications in `old` and `new`: (old file, new)."""
    [fresh] = [p for p in new.glob("*.bins-*.json") if not (old / p.name).exists()]
    role = fresh.name.split(".")[1]
    [before] = old.glob(f"*.{role}.json")
    return before, fresh


def test_a_package_resolves_through_one_bin_and_unknown_files_are_none(
    hub: SignedHub, client: Client
) -> None:
    index = trusted(hub, client)
    assert index.fetch("packages/execsnoop.json") == package_json("execsnoop")
    # No newer root, then the timestamp, the snapshot, the targets and one bin of 256.
    roles = [(name.split(".")[-2], status) for name, status in metadata_requests(hub)]
    assert roles[:4] == [("root", 404), ("timestamp", 200), ("snapshot", 200), ("targets", 200)]
    assert len(roles) == 5 and roles[4][0].startswith("bins-") and roles[4][1] == 200, roles
    assert index.fetch("packages/nosuch.json") is None
    # The verified copy is served from the cache: no new download of the file.
    before = len(hub.server.log)
    assert trusted(hub, client).fetch("packages/execsnoop.json") == package_json("execsnoop")
    assert not [p for p, _ in hub.server.log[before:] if p.endswith("execsnoop.json")]


def test_rollback_to_an_older_publication_is_refused(hub: SignedHub, client: Client) -> None:
    old = hub.save("publication-1")
    hub.write_package("execsnoop", "1.1.0")
    hub.sign()
    assert trusted(hub, client).fetch("packages/execsnoop.json") == package_json(
        "execsnoop", "1.1.0"
    )
    hub.serve_metadata(old)
    line = refused(hub, client)
    assert "refused the index of" in line and "a rollback to metadata older" in line, line
    assert "timestamp version" in line and "must be >=" in line, line


def test_a_frozen_index_is_refused_once_its_timestamp_expires(
    hub: SignedHub, client: Client
) -> None:
    hub.sign(expired(Lifetimes(), "timestamp"))
    line = refused(hub, client)
    assert "its signed metadata has expired" in line and "frozen copy" in line, line


def test_expired_bins_are_refused(hub: SignedHub, client: Client) -> None:
    hub.write_package("execsnoop", "2.0.0")  # its bin is signed anew, already expired
    hub.sign(expired(Lifetimes(), "bins"))
    line = refused(hub, client)
    assert "has expired" in line and "bins-" in line, line


def test_mix_and_match_of_two_publications_is_refused(hub: SignedHub, client: Client) -> None:
    old = hub.save("publication-1")
    hub.write_package("execsnoop", "1.1.0")
    hub.sign()
    # The bin naming execsnoop was re-signed with a new version: serve the old one's bytes
    # under the new name, beside the new timestamp, snapshot and targets.
    before, fresh = new_bin(old, hub.metadata())
    fresh.write_bytes(before.read_bytes())
    line = refused(hub, client)
    assert "a mix-and-match of files from different publications" in line, line


def test_a_tampered_bin_fails_its_signature(hub: SignedHub, client: Client) -> None:
    [bin_file] = [p for p in hub.metadata().glob("*.bins-*.json") if "execsnoop" in p.read_text()]
    data = json.loads(bin_file.read_bytes())
    target = data["signed"]["targets"]["packages/execsnoop.json"]
    target["length"] += 1
    bin_file.write_bytes(json.dumps(data).encode())
    line = refused(hub, client)
    assert "a signature does not verify" in line and "tampered" in line, line


def test_a_tampered_file_fails_its_signed_hash(hub: SignedHub, client: Client) -> None:
    [copy] = hub.api.glob("packages/*.execsnoop.json")
    copy.unlink()  # a hard link to the original: write a new file in its place
    copy.write_bytes(package_json("execsnoop", "6.6.6"))
    line = refused(hub, client)
    assert "its length or SHA-256 is not the one the signed index names" in line, line


def test_endless_data_is_cut_at_the_length_limit(
    hub: SignedHub, serve: Callable[[dict[str, Route]], RoutedServer]
) -> None:
    def endless(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")  # no length: the body never ends
        handler.end_headers()
        chunk = b" " * 65536
        with contextlib.suppress(ConnectionError):
            for _ in range(1024):  # 64 MiB at most, should the client never hang up
                handler.wfile.write(chunk)

    server = serve({"/api/v1/tuf/timestamp.json": endless})
    with http_client() as client, pytest.raises(HubError) as caught:
        TrustedIndex(server.url, client, root=hub.root_bytes()).fetch("index.json")
    line = str(caught.value)
    assert line.startswith(f"refused {server.url}api/v1/tuf/timestamp.json: the hub sent more")
    assert "endless data" in line and "16384" in line, line


def test_a_mirror_of_another_index_is_refused(
    hub: SignedHub, client: Client, tmp_path: Path
) -> None:
    other = SignedHub(tmp_path / "other")
    try:
        other.sign()
        hub.serve_metadata(other.metadata())
        line = refused(hub, client)
    finally:
        other.stop()
    assert "signed by keys that no root of this hub names" in line, line
    assert "another hub, or a mirror of another index" in line


def test_a_revoked_key_is_refused_after_the_client_learns_the_new_root(
    hub: SignedHub, client: Client
) -> None:
    stolen = load_signer(hub.keys_dir / "timestamp.key")
    keyid = stolen.public_key.keyid
    revoke_key(hub.roots, hub.root_keys, hub.keys_dir, keyid[:12])
    hub.sign()
    assert trusted(hub, client).fetch("packages/execsnoop.json") == package_json("execsnoop")
    # Whoever holds the old key signs a newer timestamp: the client knows root 2 revoked it.
    stamp_path = hub.metadata() / "timestamp.json"
    stamp = Metadata[Timestamp].from_bytes(stamp_path.read_bytes())
    stamp.signed.version += 1
    stamp.sign(stolen)
    stamp_path.write_bytes(stamp.to_bytes(SERIALIZER))
    line = refused(hub, client)
    assert f"signed by key {keyid[:16]}, which the hub has revoked" in line, line


def test_root_rotation_is_followed_and_an_old_root_key_alone_cannot_sign(
    hub: SignedHub, client: Client
) -> None:
    old_key = load_signer(next(hub.root_keys.glob("root-*.key")))
    result = rotate_root(hub.roots, hub.root_keys)
    assert result.version == 2
    hub.sign()
    index = trusted(hub, client)  # still bootstrapped from root version 1
    assert index.fetch("packages/opensnoop.json") == package_json("opensnoop")
    metadata = cache_dir() / "tuf" / hub_key(hub.url) / "metadata"
    assert (metadata / "root_history" / "2.root.json").is_file()
    # A root version 3 signed by the retired root key only: refused.
    forged = Metadata.from_bytes(hub.root_bytes(2))
    forged.signed.version = 3
    forged.sign(old_key)
    (hub.metadata() / "3.root.json").write_bytes(forged.to_bytes(SERIALIZER))
    line = refused(hub, client)
    assert "refused the root metadata" in line, line


def test_the_cache_serves_offline_until_it_expires(hub: SignedHub, client: Client) -> None:
    hub.sign(Lifetimes(timestamp=timedelta(seconds=4)))
    started = time.monotonic()
    assert trusted(hub, client).fetch("packages/execsnoop.json") == package_json("execsnoop")
    hub.stop()
    with http_client() as offline:  # no connection kept alive to the stopped server
        notices: list[str] = []
        index = trusted(hub, offline, notices.append)
        assert index.fetch("packages/execsnoop.json") == package_json("execsnoop")
        assert notices == [
            "hub unreachable (connection refused); using the signed index verified from the cache"
        ]
        with pytest.raises(HubError) as caught:
            trusted(hub, offline).fetch("packages/tcpconnect.json")  # never fetched
        assert str(caught.value).startswith(f"cannot reach the hub at {hub.url}"), caught.value
        time.sleep(max(0.0, 5.5 - (time.monotonic() - started)))
        line = refused(hub, offline)
    assert line.startswith(f"cannot reach the hub at {hub.url} (connection refused), and the")
    assert "cached from it has expired" in line and "connect to the hub" in line, line


def test_a_hub_in_a_directory_is_verified_the_same_way(hub: SignedHub, client: Client) -> None:
    site = hub.api.parent.parent
    local = TrustedIndex(site, client, root=hub.root_bytes())
    assert local.fetch("index.json") == (hub.api / "index.json").read_bytes()
    assert local.fetch("packages/nosuch.json") is None
    [copy] = hub.api.glob("packages/*.opensnoop.json")
    copy.unlink()
    copy.write_bytes(b"{}")
    with pytest.raises(HubError, match="its length or SHA-256 is not the one the signed index"):
        TrustedIndex(site, client, root=hub.root_bytes()).fetch("packages/opensnoop.json")
    assert not [path for path, _ in hub.server.log]  # nothing went over HTTP
