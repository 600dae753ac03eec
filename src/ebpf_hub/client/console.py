"""Every line the CLI prints: results on stdout, messages, warnings and progress on stderr.

What it prints is often written by others (package metadata, registry answers, kernel events),
so every function here shows control characters escaped (`ebpf_hub.safetext`): a summary
cannot recolour, hide or rewrite the lines around it.

Progress bars appear only when stderr is a terminal: in a pipe or a log they are noise, and
scripts do not pay for importing tqdm. The stores of `ebpf_hub.oci` write a blob through a
temporary file and report nothing while they do, so a bar follows the bytes arriving in the
(private) directory the blob is downloaded into, polled a few times a second.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ebpf_hub.errors import HubError
from ebpf_hub.safetext import escape

POLL_SECONDS = 0.1


def show(line: str) -> None:
    """One line of output for people on stdout. A line break inside is escaped like any other
    control: a package's summary cannot forge the next line of `info` (a "permissions" row)."""
    print(escape(line))


def show_json(value: Any) -> None:
    """Output for scripts on stdout. Printable ASCII only (ensure_ascii), so it needs no
    escaping and stays valid JSON."""
    print(json.dumps(value, indent=2, sort_keys=True))


def show_json_line(value: Any) -> None:
    """`show_json` on one line: after `run --json`'s JSON Lines, an error is one more line."""
    print(json.dumps(value, sort_keys=True))


def say(message: str) -> None:
    """One line on stderr, so --json output on stdout stays clean; escaped as `show` is."""
    print(escape(message), file=sys.stderr)


def warn(message: str) -> None:
    """One warning line on stderr."""
    say(f"ebpf-hub: warning: {message}")


def ask_secret(prompt: str, *, confirm: bool = False) -> bytes | None:
    """A passphrase typed on the terminal without echo (twice when `confirm`), or None when
    stdin is not a terminal: a script must give it in the environment instead."""
    if not sys.stdin.isatty():
        return None
    import getpass

    secret = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != secret:
        raise HubError("the two passphrases differ")
    return secret.encode()


def silence(stream: TextIO) -> None:
    """Point a closed pipe's fd at /dev/null, so the interpreter's last flush stays quiet
    (the way the Python documentation handles SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file: nothing to flush at exit
        pass


@contextmanager
def download_progress(label: str, size: int, directory: Path) -> Iterator[None]:
    """Show a bar for `size` bytes being written into `directory`, if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    done = threading.Event()
    with tqdm(
        total=size,
        desc=escape(label),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
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
