"""One retry policy, applied at one level: hostile servers on 127.0.0.1 count what they get.

A registry (or hub) stuck on 503 must receive `retries + 1` GETs, not their square, as it
did when the HTTP client and the blob download both repeated the same 503. What the client
cannot see, a body that breaks after it returned the answer, is still repeated once by the
download; and a write is never repeated by the client, only as a whole upload. The CLI runs
as a real process with `retries = 2` in its config file and must end with one error line
naming the host and the status.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ebpf_hub.httpclient import Client, RetryPolicy
from ebpf_hub.oci.errors import RegistryUnavailableError
from ebpf_hub.oci.registry import RegistryStore
from routedserver import (
    REPOSITORY,
    Artifact,
    Handler,
    Route,
    RoutedServer,
    answer,
    one_error_line,
    run_cli,
)

RETRIES = 2
UNAVAILABLE = 503
LAYER = b"\x7fELF" + bytes(range(256)) * 64


def unavailable() -> Route:
    return answer(b'{"errors": []}', {"Content-Type": "application/json"}, status=UNAVAILABLE)


def broken_once(body: bytes) -> Route:
    """The whole body announced, half of it sent, the connection closed; then all of it."""
    calls: list[None] = []
    whole = answer(body)

    def respond(handler: Handler) -> None:
        calls.append(None)
        if len(calls) > 1:
            whole(handler)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True

    return respond


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose config file sets the retries."""
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f"retries = {RETRIES}\n")
    return tmp_path / "home"


def error_line(home: Path, *args: str) -> str:
    """The one error line of a command that must fail."""
    return one_error_line(*run_cli(home, *args))


def pull_args(registry: RoutedServer, out: Path) -> tuple[str, ...]:
    return ("pull", f"{registry.host}/{REPOSITORY}:1.0.0", "--out", str(out), "--allow-unsigned")


def test_a_blob_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(layer=unavailable()))
    error = error_line(home, *pull_args(registry, tmp_path / "out"))
    assert registry.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert registry.count("GET", artifact.layer_path) == RETRIES + 1


def test_a_manifest_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(manifest=unavailable()))
    error = error_line(home, *pull_args(registry, tmp_path / "out"))
    assert registry.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert registry.count("GET", artifact.manifest_path) == RETRIES + 1


def test_a_hub_index_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    index = "/api/v1/index.json"
    hub = serve({index: unavailable()})
    error = error_line(home, "search", "exec", "--hub", hub.url)
    assert hub.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert hub.count("GET", index) == RETRIES + 1


def test_a_body_broken_once_is_fetched_again_and_pulled(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    """The client returned the answer before the body broke: the download repeats it."""
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(layer=broken_once(artifact.layer)))
    out = tmp_path / "out"
    code, stderr = run_cli(home, *pull_args(registry, out))
    assert code == 0, stderr
    assert (out / "pkg.bpf.o").read_bytes() == artifact.layer
    assert registry.count("GET", artifact.layer_path) == 2


def test_an_upload_is_repeated_whole_never_its_put_alone(
    serve: Callable[[dict[str, Route]], RoutedServer],
) -> None:
    """Each try of the upload is one POST (a new session) and one PUT: the client never
    repeats the PUT, which would write into a session the registry may have dropped."""
    uploads = f"/v2/{REPOSITORY}/blobs/uploads/"
    session = f"{uploads}session"
    registry = serve(
        {uploads: answer(b"", {"Location": session}, status=202), session: unavailable()}
    )
    store = RegistryStore(registry.host, REPOSITORY, insecure=True, retries=RETRIES)
    artifact = Artifact(LAYER)
    with pytest.raises(RegistryUnavailableError, match=f"HTTP {UNAVAILABLE}"):
        store.put_blob(artifact.layer_descriptor, artifact.layer)
    assert registry.count("POST", uploads) == RETRIES + 1
    assert registry.count("PUT", session) == RETRIES + 1


def test_the_client_does_not_retry_a_put_that_reached_the_server(
    serve: Callable[[dict[str, Route]], RoutedServer],
) -> None:
    registry = serve({"/x": unavailable()})
    with (
        Client(retry=RetryPolicy(retries=RETRIES, backoff=0.01)) as client,
        client.request("PUT", registry.url + "x", body=b"data") as response,
    ):
        assert response.status == UNAVAILABLE
    assert registry.count("PUT", "/x") == 1


def test_a_command_has_one_http_client_for_the_hub_and_its_registries() -> None:
    """Everything a command reaches through its settings shares one client: the index, the
    registry store an install pulls from, and so one retry policy and one connection pool."""
    from ebpf_hub.client.fetch import Source, open_remote
    from ebpf_hub.client.hubindex import HubIndex
    from ebpf_hub.client.settings import Settings
    from ebpf_hub.oci.reference import parse_reference

    settings = Settings(hub_url="http://127.0.0.1:9/", retries=2)
    client = settings.http_client()
    assert settings.http_client() is client
    reference = parse_reference("127.0.0.1:9/hub/sample:1.0.0")
    store = open_remote(Source(reference, reference.name), settings)
    assert isinstance(store, RegistryStore)
    assert store._transport.client is client
    with HubIndex(settings) as hub:
        hub_client = hub.settings.http_client()
    assert hub_client is client
    assert Settings().http_client() is not client  # another command, another client
