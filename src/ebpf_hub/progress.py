"""Progress of a download, reported by the code that reads the bytes as they arrive.

A store's `get_blob` takes an optional `Progress` and calls `advance` once per chunk it
reads (chunks of `ebpf_hub.oci.digest.CHUNK_SIZE`, a mebibyte): never per byte, so the read
loop pays one call per mebibyte, and nothing at all when no one watches (None). Who shows the
progress (the console's bar, a test's recorder) is the caller's business, not the store's.

A pull reads its layers in several threads: a `Progress` that may be handed to more than
one download at once must be safe to call from several threads.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Where a download reports the bytes it received."""

    def advance(self, n: int) -> None:
        """`n` (> 0) more bytes arrived; over a whole download they add up to its size."""
        ...


class Tally:
    """What a download that may resume or restart reports: bytes beyond any reported before.

    A broken transfer resumes from where it stopped, or, when the server ignores ranges,
    starts again from the first byte; counting those bytes again would take a bar past 100%.
    So `reach` is told how many bytes the download holds now, and reports only what exceeds
    the most it held before: the reports add up to the download's size, exactly once.
    """

    __slots__ = ("_progress", "_reported")

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._reported = 0

    def reach(self, received: int) -> None:
        """The download now holds `received` bytes."""
        if received > self._reported and self._progress is not None:
            self._progress.advance(received - self._reported)
            self._reported = received
