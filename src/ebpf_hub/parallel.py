"""A few blocking calls at once, in threads: downloads that mostly wait on the network.

`concurrent.futures` would do the same, but importing it (it brings `logging`) costs a short
client process more than the round trips it saves; this is the little that is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

MAX_WORKERS = 8  # enough to hide round trips; an artifact of 10,000 layers gets no more


def run_concurrently(calls: Sequence[Callable[[], object]], workers: int = MAX_WORKERS) -> None:
    """Run every call in at most `workers` threads (this one among them), and wait for all.

    Each thread takes the next call nobody started until none is left, so the threads are
    bounded by `workers`, not by what a (hostile) manifest lists. Once a call raised, no
    further call starts, and the first exception (in call order) is raised when the calls
    already running have finished, so none is still writing when the caller cleans up.
    """
    errors: list[BaseException | None] = [None] * len(calls)
    pending = iter(range(len(calls)))
    lock = threading.Lock()
    stop = threading.Event()  # a call failed, or this thread is done: start nothing more

    def work() -> None:
        while not stop.is_set():
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                calls[index]()
            except BaseException as exc:  # handed to the calling thread
                errors[index] = exc
                stop.set()

    helpers = [threading.Thread(target=work) for _ in range(min(workers, len(calls)) - 1)]
    for thread in helpers:
        thread.start()
    try:
        work()
    finally:
        stop.set()  # also on KeyboardInterrupt: the helpers finish their call and return
        for thread in helpers:
            thread.join()
    for error in errors:
        if error is not None:
            raise error
