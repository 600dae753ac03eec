"""Slow-loris servers against the client, as an attacker would run them (issue #11).

A hostile HTTP server on 127.0.0.1 plays the hub, the registry or its token server and
answers one path slowly: the status line and headers a byte at a time, a body a byte at a
time, an endless chunked body just fast enough, no answer at all, a chain of slow redirects.
`ebpf-hub search` and `ebpf-hub pull` run as real processes with small limits, so each
attack must end in seconds with one error line naming the host, and exit status 1; an
honest server that is slow but steady must still be waited for. Last, an artifact of
thousands of layers must be pulled with a bounded number of threads.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from artifactconfig import artifact_config
from ebpf_hub.cli import main
from ebpf_hub.client.settings import DEADLINE_ENV, MIN_RATE_ENV, Settings
from ebpf_hub.errors import HubError
from ebpf_hub.oci.artifact import ARTIFACT_CONFIG_MEDIA_TYPE, ARTIFACT_TYPE, BPF_OBJECT_MEDIA_TYPE
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest
from ebpf_hub.parallel import MAX_WORKERS
from ebpf_hub.progress import Progress
from hubrepo import REPO
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

INDEX = "/api/v1/index.json"
ATTACK_BOUND = 30.0  # seconds: a command still running then was held by the attack
TRICKLE = 0.1  # seconds between the bytes of a trickle: 10 bytes a second
LAYERS = 2_000
LAYER = b"\x7fELF" + b"\0" * (6 * 1024 - 4)  # 6 KiB: three windows of a 2 KiB/s link


# Routes: bytes written with a pause before each piece.


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def paced(pieces: Iterable[bytes], every: float) -> Route:
    """Wait `every` seconds before each piece (until the client hangs up)."""

    def behave(handler: Handler) -> None:
        try:
            for piece in pieces:
                time.sleep(every)
                handler.wfile.write(piece)
        except ConnectionError:
            handler.close_connection = True

    return behave


def bytewise(data: bytes) -> Iterator[bytes]:
    return (data[i : i + 1] for i in range(len(data)))


def trickled_headers() -> Route:
    """A status line, then one header line that never ends, a byte at a time."""
    return paced(itertools.chain([b"HTTP/1.1 200 OK\r\nX-Slow: "], itertools.repeat(b"a")), TRICKLE)


def trickled_body(body: bytes) -> Route:
    """Headers at once, then the body a byte at a time."""
    start = head(200, {"Content-Length": str(len(body))})
    return paced(itertools.chain([start], bytewise(body)), TRICKLE)


def silent(handler: Handler) -> None:
    """Read the request, then never answer: hold the connection until the client hangs up."""
    handler.rfile.read()
    handler.close_connection = True


def steady(body: bytes, rate: int, headers: dict[str, str] | None = None) -> Route:
    """An honest, slow link: the body at `rate` bytes a second, in quarter-second pieces."""
    piece = rate // 4
    start = head(200, {**(headers or {}), "Content-Length": str(len(body))})
    pieces = (body[i : i + piece] for i in range(0, len(body), piece))
    return paced(itertools.chain([start], pieces), 0.25)


# Running the client as a user would, with small limits.


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose config averages the rate over 1 s (the `timeout`) instead of 30."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("timeout = 1\n")
    return home


def run(home: Path, *args: str, deadline: float = 3, min_rate: int = 1024) -> tuple[int, str]:
    """`ebpf-hub ARGS` in a process of its own, with these limits: (exit status, stderr)."""
    limits = {"EBPF_HUB_HTTP_DEADLINE": str(deadline), "EBPF_HUB_HTTP_MIN_RATE": str(min_rate)}
    return run_cli(home, *args, env=limits, timeout=ATTACK_BOUND)


def error_line(home: Path, *args: str, deadline: float = 3, min_rate: int = 1024) -> str:
    """The one error line of a command that must fail (and end before ATTACK_BOUND)."""
    return one_error_line(*run(home, *args, deadline=deadline, min_rate=min_rate))


def assert_below_rate(error: str, host: str, stage: str) -> None:
    """The rate's error: the host, what it sent of what, and the setting to lower."""
    assert re.fullmatch(
        rf"ebpf-hub: error: {re.escape(host)} sent \d+ bytes of its {stage} in [\d.]+ s, "
        r"below the minimum 1 KiB/s; check the network, or lower EBPF_HUB_HTTP_MIN_RATE "
        r"\(or min_rate in config.toml\)",
        error,
    ), error


def assert_past_deadline(error: str, host: str, stage: str, sent: str = r"\d+ bytes") -> None:
    """The deadline's error (2 s in these tests): the host, how far it got, the setting."""
    assert re.fullmatch(
        rf"ebpf-hub: error: {re.escape(host)} had sent {sent} of its {stage} when the 2 s "
        r"deadline passed; check the network, or raise EBPF_HUB_HTTP_DEADLINE "
        r"\(or deadline in config.toml\)",
        error,
    ), error


# The hub: `ebpf-hub search`.


@pytest.fixture(scope="module")
def index_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The repository's real `index.json`, as `ebpf-hub index` writes it."""
    out = tmp_path_factory.mktemp("site")
    assert main(["index", "--root", str(REPO), "--out", str(out)]) == 0
    return (out / "api/v1/index.json").read_bytes()


def search(home: Path, hub: RoutedServer, deadline: float = 3, min_rate: int = 1024) -> str:
    return error_line(
        home, "search", "exec", "--hub", hub.url, deadline=deadline, min_rate=min_rate
    )


def test_hub_trickling_its_headers_fails_below_the_rate(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    hub = serve({INDEX: trickled_headers()})
    error = search(home, hub)
    assert_below_rate(error, hub.host, "headers")
    assert hub.requests == [f"GET {INDEX}"]  # not retried: a trickle would only trickle again


def test_hub_trickling_its_headers_meets_the_deadline(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    """With no minimum rate, the deadline alone still ends it."""
    hub = serve({INDEX: trickled_headers()})
    error = search(home, hub, deadline=2, min_rate=0)
    assert_past_deadline(error, hub.host, "headers")


def test_hub_that_accepts_and_never_answers(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    """The read timeout (30 s here) would wait each attempt out; the deadline does not."""
    (home / "config" / "config.toml").write_text("timeout = 30\n")
    hub = serve({INDEX: silent})
    error = search(home, hub, deadline=2)
    assert_past_deadline(error, hub.host, "headers", "0 bytes")


def test_hub_trickling_its_body(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, index_json: bytes
) -> None:
    hub = serve({INDEX: trickled_body(index_json)})
    error = search(home, hub)
    assert_below_rate(error, hub.host, "body")


def test_hub_sending_an_endless_chunked_body_fast_enough(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    """4 KiB every 50 ms passes the rate; only the deadline stops it (64 MiB would not
    for 13 minutes)."""
    chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
    start = head(200, {"Transfer-Encoding": "chunked"})
    hub = serve({INDEX: paced(itertools.chain([start], itertools.repeat(chunk)), 0.05)})
    error = search(home, hub, deadline=2)
    assert_past_deadline(error, hub.host, "body", r"[\d.]+ KiB")


def test_hub_redirecting_slowly_without_end(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path
) -> None:
    """Each hop takes 0.7 s: one deadline covers the whole chain."""
    hop = paced([head(302, {"Location": INDEX + "?again", "Content-Length": "0"})], 0.7)
    hub = serve({INDEX: hop})
    error = search(home, hub, deadline=2)
    assert_past_deadline(error, hub.host, "headers", "0 bytes")
    assert 2 <= len(hub.requests) <= 3


def test_hub_slow_but_steady_is_waited_for(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, index_json: bytes
) -> None:
    """2 KiB/s for about 3 s (three rate windows): slow, but above the minimum."""
    body = index_json + b" " * max(0, 6 * 1024 - len(index_json))
    hub = serve({INDEX: steady(body, 2048)})
    code, stderr = run(home, "search", "exec", "--hub", hub.url, deadline=10)
    assert code == 0, stderr


# The registry: `ebpf-hub pull`.


def pull(home: Path, registry: RoutedServer, out: Path, deadline: float = 3) -> str:
    reference = f"{registry.host}/{REPOSITORY}:1.0.0"
    args = ("pull", reference, "--out", str(out), "--allow-unsigned")
    error = error_line(home, *args, deadline=deadline)
    assert not out.exists() or not any(out.iterdir())
    return error


def test_registry_trickling_the_headers_of_a_manifest(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(tag=trickled_headers()))
    error = pull(home, registry, tmp_path / "out")
    assert_below_rate(error, registry.host, "headers")


def test_registry_trickling_a_layer(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    """Neither the client nor the registry code retries it: one slow download, one error."""
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(layer=trickled_body(artifact.layer)))
    error = pull(home, registry, tmp_path / "out")
    assert_below_rate(error, registry.host, "body")
    assert registry.requests.count(f"GET {artifact.layer_path}") == 1


def test_registry_never_answering_a_layer(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    (home / "config" / "config.toml").write_text("timeout = 30\n")
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(layer=silent))
    error = pull(home, registry, tmp_path / "out", deadline=2)
    assert_past_deadline(error, registry.host, "headers", "0 bytes")


def test_token_server_trickling_the_token(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    """The registry asks for a bearer token; its token server sends it a byte at a time,
    padded with more whitespace than a day of trickling gets through."""
    challenge: dict[str, Route] = {}
    registry = serve(challenge)
    realm = f'Bearer realm="{registry.url}token",service="registry",scope="repository:ns/pkg:pull"'
    denied = answer(b"{}", {"WWW-Authenticate": realm}, status=401)
    challenge |= dict.fromkeys(Artifact(LAYER).routes(), denied)
    challenge["/token"] = trickled_body(json.dumps({"token": "t" * 64}).encode() + b" " * 10**6)
    error = pull(home, registry, tmp_path / "out")
    assert_below_rate(error, registry.host, "body")
    assert "GET /token" in registry.requests


def test_registry_slow_but_steady_is_waited_for(
    serve: Callable[[dict[str, Route]], RoutedServer], home: Path, tmp_path: Path
) -> None:
    """The 6 KiB layer at 2 KiB/s: three rate windows, and the pull succeeds."""
    artifact = Artifact(LAYER)
    registry = serve(artifact.routes(layer=steady(artifact.layer, 2048)))
    out = tmp_path / "out"
    reference = f"{registry.host}/{REPOSITORY}:1.0.0"
    code, stderr = run(home, "pull", reference, "--out", str(out), "--allow-unsigned", deadline=10)
    assert code == 0, stderr
    assert (out / "pkg.bpf.o").read_bytes() == artifact.layer


# Many layers: the threads stay bounded.


def many_layer_layout(root: Path, count: int) -> None:
    """An OCI layout holding, as tag 1.0.0, an artifact of `count` one-byte-ish layers."""
    store = LayoutStore(root, create=True, durable=False)
    config = json.dumps(artifact_config("many", "1.0.0")).encode()
    config_descriptor = Descriptor(ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(config), len(config))
    store.put_blob(config_descriptor, config)
    layers = []
    for number in range(count):
        data = str(number).encode()
        layer = Descriptor(
            BPF_OBJECT_MEDIA_TYPE,
            sha256_digest(data),
            len(data),
            {TITLE_ANNOTATION: f"l{number}.bpf.o"},
        )
        store.put_blob(layer, data)
        layers.append(layer)
    manifest = ImageManifest(config_descriptor, tuple(layers), artifact_type=ARTIFACT_TYPE)
    store.put_manifest(manifest.to_bytes(), OCI_MANIFEST, "1.0.0")


@pytest.mark.slow
def test_many_layers_use_a_bounded_number_of_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each layer download notes how many threads are alive; the old code started one
    thread per layer (2,000 here: 10,000 only takes longer to show the same)."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    many_layer_layout(tmp_path / "layout", LAYERS)
    counts: list[int] = []
    original = LayoutStore.get_blob

    def counting(
        store: LayoutStore, descriptor: Descriptor, dest: Path, progress: Progress | None = None
    ) -> None:
        counts.append(threading.active_count())
        time.sleep(0.001)  # a round trip's worth of waiting, during which threads pile up
        original(store, descriptor, dest, progress)

    monkeypatch.setattr(LayoutStore, "get_blob", counting)
    baseline = threading.active_count()
    out = tmp_path / "out"
    reference = f"oci:{tmp_path / 'layout'}:1.0.0"
    assert main(["pull", reference, "--out", str(out), "--allow-unsigned"]) == 0
    assert len(counts) >= LAYERS and len(list(out.iterdir())) == LAYERS
    assert max(counts) <= baseline + MAX_WORKERS - 1


# The settings.


def test_limits_come_from_the_environment_then_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path))
    for variable in (DEADLINE_ENV, MIN_RATE_ENV):
        monkeypatch.delenv(variable, raising=False)
    assert (Settings.load().deadline, Settings.load().min_rate) == (300, 1024)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("deadline = 60\nmin_rate = 0\ntimeout = 5\n")
    limits = Settings.load().limits
    assert (limits.deadline, limits.min_rate, limits.window) == (60, 0, 5)
    monkeypatch.setenv(DEADLINE_ENV, "7.5")
    assert Settings.load().limits.deadline == 7.5
    for variable, value in ((DEADLINE_ENV, "soon"), (DEADLINE_ENV, "0"), (MIN_RATE_ENV, "-1")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(HubError, match=f"^{variable}='{value}' is not allowed; it must be"):
            Settings.load()
        monkeypatch.delenv(variable)
