"""run_concurrently: the calls really overlap, and a failure surfaces only after all ended."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest

from ebpf_hub.parallel import run_concurrently


def test_calls_run_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=5)  # broken unless all three wait together
    done: list[int] = []

    def meet(index: int) -> None:
        barrier.wait()
        done.append(index)

    run_concurrently([partial(meet, index) for index in range(3)])
    assert sorted(done) == [0, 1, 2]


def test_the_first_failure_is_raised_after_every_call_finished() -> None:
    finished: list[str] = []

    def slow() -> None:
        time.sleep(0.2)
        finished.append("slow")

    def fails(message: str) -> None:
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        run_concurrently([lambda: fails("first"), slow, lambda: fails("second")])
    assert finished == ["slow"]


def test_no_calls_is_nothing_to_do() -> None:
    run_concurrently([])
