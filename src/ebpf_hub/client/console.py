"""Every line the CLI prints: results on stdout, messages, warnings and progress on stderr.

What it prints is often written by others (package metadata, registry answers, kernel events),
so every function here shows control characters escaped (`ebpf_hub.safetext`): a summary
cannot recolour, hide or rewrite the lines around it.

Progress bars appear only when stderr is a terminal: in a pipe or a log they are noise, and
scripts do not pay for importing tqdm (nor the download loop for reporting to no one). A bar
is an `ebpf_hub.progress.Progress`: the store that reads the blob advances it once per chunk
received.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from ebpf_hub.errors import HubError
from ebpf_hub.progress import Progress
from ebpf_hub.safetext import escape

if TYPE_CHECKING:
    import threading

    from tqdm import tqdm


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
def download_progress(label: str, size: int) -> Iterator[Progress | None]:
    """A bar for a download of `size` bytes if stderr is a terminal, else None (no reports).

    The bar is closed where the download stopped: at 100% once all of it arrived.
    """
    if not sys.stderr.isatty():
        yield None
        return
    import threading

    from tqdm import tqdm

    with tqdm(
        total=size,
        desc=escape(label),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
    ) as bar:
        yield _Bar(bar, threading.Lock())


class _Bar:
    """A tqdm bar as a `Progress`: safe to advance from several download threads at once
    (tqdm's own lock guards its drawing, not its count)."""

    def __init__(self, bar: tqdm[Any], lock: threading.Lock) -> None:
        self._bar = bar
        self._lock = lock

    def advance(self, n: int) -> None:
        with self._lock:
            self._bar.update(n)
