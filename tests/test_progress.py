"""Download progress as a callback: stores report the bytes they read, once per chunk.

Real pulls from a real registry (`registry.py`) with a recording `Progress`: what is reported
adds up to each blob's size, in one call per chunk (a mebibyte), also when a transfer breaks
and resumes or restarts, and from the eight threads a pull downloads its layers in. Then the
CLI: a bar on a terminal (a pty), nothing in a pipe.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from artifactconfig import artifact_config
from ebpf_hub.client import console
from ebpf_hub.client.blobcache import BlobCache, CachingStore
from ebpf_hub.oci.artifact import BuiltArtifact, build_artifact, push_artifact, read_artifact
from ebpf_hub.oci.digest import CHUNK_SIZE
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.parallel import MAX_WORKERS
from ebpf_hub.progress import Progress, Tally
from ptyrun import stderr_on_terminal
from registry import RegistryServer
from test_oci import Proxy

MiB = 1024 * 1024
CONFIG = artifact_config("layers", "1.0.0")
LAYERS = MAX_WORKERS + 2  # more layers than download threads


class Recorder:
    """A `Progress` that keeps every report, and the thread each came from."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def advance(self, n: int) -> None:
        with self._lock:
            self.calls.append(n)
            self.threads.add(threading.get_ident())

    @property
    def total(self) -> int:
        return sum(self.calls)


def _progress(recorder: Recorder) -> Progress:
    return recorder  # a Recorder is a Progress (checked by mypy here)


@pytest.fixture(scope="module")
def layered(
    registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, BuiltArtifact]:
    """An artifact of LAYERS objects of odd sizes (up to 3.5 MiB), pushed: (repository, it)."""
    directory = tmp_path_factory.mktemp("layers")
    files = []
    for index in range(LAYERS):
        path = directory / f"layer{index}.bpf.o"
        path.write_bytes(os.urandom(index * MiB // 3 + 4099))
        files.append(path)
    artifact = build_artifact(files, CONFIG, title="layers", version="1.0.0")
    repository = f"hub/progress{uuid.uuid4().hex[:12]}"
    push_artifact(_store(registry.host, repository), artifact, "1.0.0")
    return repository, artifact


def _store(host: str, repository: str) -> RegistryStore:
    return RegistryStore(host, repository, insecure=True, retries=3)


def _check_chunked(recorder: Recorder, size: int) -> None:
    """Every byte reported once, one call per chunk: far fewer calls than bytes."""
    assert recorder.total == size
    assert all(n > 0 for n in recorder.calls)
    assert len(recorder.calls) <= max(1, math.ceil(size / CHUNK_SIZE))
    assert len(recorder.calls) * 1000 < size


def test_a_registry_download_reports_each_chunk(
    registry: RegistryServer, layered: tuple[str, BuiltArtifact], tmp_path: Path
) -> None:
    repository, artifact = layered
    store = _store(registry.host, repository)
    manifest_layers = [descriptor for descriptor, _ in artifact.layers]
    for descriptor in manifest_layers:
        recorder = Recorder()
        store.get_blob(descriptor, tmp_path / descriptor.digest[7:], _progress(recorder))
        _check_chunked(recorder, descriptor.size)
    store.get_blob(manifest_layers[-1], tmp_path / "quiet")  # no Progress: nothing to call


def test_a_layout_copy_reports_each_chunk(
    layered: tuple[str, BuiltArtifact], tmp_path: Path
) -> None:
    _, artifact = layered
    layout = LayoutStore(tmp_path / "oci", create=True)
    push_artifact(layout, artifact, "1.0.0")
    descriptor = max((d for d, _ in artifact.layers), key=lambda d: d.size)
    recorder = Recorder()
    layout.get_blob(descriptor, tmp_path / "copy", recorder)
    _check_chunked(recorder, descriptor.size)


def test_a_pull_through_the_cache_reports_every_blob_from_its_threads(
    registry: RegistryServer,
    layered: tuple[str, BuiltArtifact],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`read_artifact` fetches the layers in MAX_WORKERS threads; each download is shown
    (per-layer reports) and all of them also report into one shared Progress (one bar)."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    repository, artifact = layered
    shared = Recorder()
    per_blob: dict[str, Recorder] = {}
    shown_sizes: dict[str, int] = {}

    @contextmanager
    def show(label: str, size: int) -> Iterator[Progress | None]:
        recorder = per_blob.setdefault(label, Recorder())
        shown_sizes[label] = size
        time.sleep(0.02)  # a slow network: the other layers go to the other threads

        class Both:
            def advance(self, n: int) -> None:
                recorder.advance(n)
                shared.advance(n)

        yield Both()

    remote = _store(registry.host, repository)
    with CachingStore(BlobCache(), remote.name, lambda: remote, show) as view:
        view.trust()
        read_artifact(view, repository, artifact.digest, tmp_path / "out", 64 * MiB)
    layers = {str(d.title): d.size for d, _ in artifact.layers}
    assert {label: per_blob[label].total for label in layers} == layers
    assert {label: shown_sizes[label] for label in layers} == layers
    for label, size in layers.items():
        _check_chunked(per_blob[label], size)
    assert shared.total == sum(r.total for r in per_blob.values())
    assert len(shared.threads) > 1  # the layers did arrive from several threads at once

    # Again, now from the cache: nothing is downloaded, so nothing is shown.
    per_blob.clear()
    with CachingStore(BlobCache(), remote.name, lambda: remote, show) as view:
        view.trust()
        read_artifact(view, repository, artifact.digest, tmp_path / "again", 64 * MiB)
    assert per_blob == {}


@pytest.mark.parametrize("strip_range", [False, True], ids=["resume", "restart"])
def test_a_broken_transfer_reports_each_byte_once(
    registry: RegistryServer,
    layered: tuple[str, BuiltArtifact],
    tmp_path: Path,
    strip_range: bool,
) -> None:
    """Resumed with a Range request, or restarted from zero: the reports still add up to
    the size, never beyond (a bar would otherwise pass 100%)."""
    repository, artifact = layered
    descriptor = max((d for d, _ in artifact.layers), key=lambda d: d.size)
    proxy = Proxy(registry.host, cut_after=2 * MiB, strip_range=strip_range)
    try:
        recorder = Recorder()
        _store(proxy.host, repository).get_blob(descriptor, tmp_path / "blob", recorder)
    finally:
        proxy.close()
    assert recorder.total == descriptor.size
    assert all(n > 0 for n in recorder.calls)
    assert len(recorder.calls) <= math.ceil(descriptor.size / CHUNK_SIZE) + 1


def test_tally_reports_only_new_bytes() -> None:
    recorder = Recorder()
    tally = Tally(recorder)
    for received in (10, 20, 5, 15, 20, 30):  # a restart after 20 bytes
        tally.reach(received)
    assert recorder.calls == [10, 10, 10]
    Tally(None).reach(10)  # nobody watching: nothing to do


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_console_bar_escapes_its_label_and_is_thread_safe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    size = 8 * 1000 * 64
    with console.download_progress("evil\x1b[2J.bpf.o", size) as progress:
        assert progress is not None

        def advance_1000(bar: Progress) -> None:
            for _ in range(1000):
                bar.advance(64)

        threads = [threading.Thread(target=advance_1000, args=(progress,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    shown = terminal.getvalue()
    assert "\x1b[2J" not in shown and "evil\\x1b[2J.bpf.o: 100%|" in shown


def test_no_bar_and_no_reports_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with console.download_progress("layer0.bpf.o", 10) as progress:
        assert progress is None
    assert pipe.getvalue() == ""


# The CLI: a bar on a terminal, nothing in a pipe.


def _pull_command(registry: RegistryServer, repository: str, out: Path) -> list[str]:
    reference = f"{registry.host}/{repository}:1.0.0"
    return [
        sys.executable,
        "-m",
        "ebpf_hub.cli",
        "pull",
        reference,
        "--out",
        str(out),
        "--allow-unsigned",
    ]


def _environment(home: Path) -> dict[str, str]:
    hidden = ("EBPF_HUB_URL", "EBPF_HUB_REGISTRY", "EBPF_HUB_PUBLIC_KEY")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    return {**env, "EBPF_HUB_HOME": str(home), "DOCKER_CONFIG": str(home / "docker")}


def test_the_cli_shows_bars_on_a_terminal(
    registry: RegistryServer, layered: tuple[str, BuiltArtifact], tmp_path: Path
) -> None:
    repository, artifact = layered
    code, text = stderr_on_terminal(
        _pull_command(registry, repository, tmp_path / "out"),
        _environment(tmp_path / "home"),
        columns=120,
    )
    assert code == 0, text
    for descriptor, _ in artifact.layers:
        assert f"{descriptor.title}: 100%|" in text, text


def test_the_cli_shows_no_bar_in_a_pipe(
    registry: RegistryServer, layered: tuple[str, BuiltArtifact], tmp_path: Path
) -> None:
    repository, _ = layered
    done = subprocess.run(
        _pull_command(registry, repository, tmp_path / "out"),
        capture_output=True,
        text=True,
        env=_environment(tmp_path / "home"),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "%|" not in done.stderr and "\r" not in done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"layer{index}.bpf.o" for index in range(LAYERS)
    )
