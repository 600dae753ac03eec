"""What the client tells the user while it works: warnings and download progress, on stderr.

Progress bars appear only when stderr is a terminal: in a pipe or a log they are noise, and
scripts do not pay for importing tqdm. The stores of `ebpf_hub.oci` write a blob through a
temporary file and report nothing while they do, so a bar follows the bytes arriving in the
(private) directory the blob is downloaded into, polled a few times a second.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.1


def warn(message: str) -> None:
    """One warning line on stderr, so --json output on stdout stays clean."""
    print(f"ebpf-hub: warning: {message}", file=sys.stderr)


@contextmanager
def download_progress(label: str, size: int, directory: Path) -> Iterator[None]:
    """Show a bar for `size` bytes being written into `directory`, if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    done = threading.Event()
    with tqdm(
        total=size, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr
    ) as bar:

        def poll() -> None:
            while not done.wait(POLL_SECONDS):
                bar.update(max(0, _bytes_in(directory) - bar.n))

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
        bar.update(size - bar.n)


def _bytes_in(directory: Path) -> int:
    """Bytes in the files of `directory` now (files come and go while a store writes)."""
    total = 0
    try:
        entries = list(directory.iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            total += entry.stat().st_size
        except OSError:
            continue
    return total
