"""A few blocking calls at once, in threads: downloads that mostly wait on the network.

`concurrent.futures` would do the same, but importing it (it brings `logging`) costs a short
client process more than the round trips it saves; this is the little that is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def run_concurrently(calls: Sequence[Callable[[], object]]) -> None:
    """Run every call, each in its own thread (the first in this one), and wait for all.

    If any raised, the first exception (in call order) is raised once all have finished,
    so no call is still writing when the caller cleans up after the failure.
    """
    errors: list[BaseException | None] = [None] * len(calls)

    def guarded(index: int) -> None:
        try:
            calls[index]()
        except BaseException as exc:  # handed to the calling thread
            errors[index] = exc

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(1, len(calls))]
    for thread in threads:
        thread.start()
    try:
        if calls:
            guarded(0)
    finally:
        for thread in threads:
            thread.join()
    for error in errors:
        if error is not None:
            raise error
