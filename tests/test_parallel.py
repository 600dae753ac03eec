"""run_concurrently: the calls really overlap, in a bounded number of threads, and a failure
stops the calls not yet started and surfaces only after the running ones ended."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest

from ebpf_hub.parallel import MAX_WORKERS, run_concurrently


def test_calls_run_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=5)  # broken unless all three wait together
    done: list[int] = []

    def meet(index: int) -> None:
        barrier.wait()
        done.append(index)

    run_concurrently([partial(meet, index) for index in range(3)])
    assert sorted(done) == [0, 1, 2]


def test_many_calls_share_a_bounded_number_of_threads() -> None:
    """A thousand calls that each hold their thread a moment: all run, never more than
    MAX_WORKERS at once, and in the threads of a pool rather than one thread each."""
    lock = threading.Lock()
    running: list[int] = [0]
    peak: list[int] = [0]
    threads: set[int] = set()

    def call() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.get_ident())
        time.sleep(0.001)
        with lock:
            running[0] -= 1

    before = threading.active_count()
    run_concurrently([call] * 1000)
    assert peak[0] <= MAX_WORKERS and len(threads) <= MAX_WORKERS
    assert threading.active_count() == before


def test_the_first_failure_is_raised_after_every_started_call_finished() -> None:
    started = threading.Event()
    finished: list[str] = []

    def slow() -> None:
        started.set()
        time.sleep(0.2)
        finished.append("slow")

    def fails(message: str) -> None:
        assert started.wait(5)  # fail only once `slow` runs: it must then be waited for
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        run_concurrently([lambda: fails("first"), slow, lambda: fails("second")])
    assert finished == ["slow"]


def test_a_failure_cancels_the_calls_not_yet_started() -> None:
    ran: list[int] = []

    def call(index: int) -> None:
        ran.append(index)
        if index == 1:
            raise ValueError("layer 1")

    with pytest.raises(ValueError, match="layer 1"):
        run_concurrently([partial(call, index) for index in range(100)], workers=2)
    assert len(ran) < 100


def test_no_calls_is_nothing_to_do() -> None:
    run_concurrently([])
