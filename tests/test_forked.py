"""Work in a forked child beside the parent: its result, its failures, and its end."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ebpf_hub.errors import HubError
from ebpf_hub.forked import running_beside, split_in_two


@pytest.fixture(autouse=True)
def single_threaded() -> Iterator[None]:
    """A process with other threads does the work itself: these tests need the fork."""
    assert threading.active_count() == 1, f"threads left running: {threading.enumerate()}"
    yield
    assert gc.get_freeze_count() == 0  # frozen for the fork only: collected again as usual


def test_the_childs_work_is_done_when_the_block_ends(tmp_path: Path) -> None:
    written = tmp_path / "written"
    with running_beside(lambda: written.write_text(str(os.getpid())), "writing"):
        pass
    assert written.read_text() != str(os.getpid())  # done by another process
    assert written.read_text().isdigit()


def test_the_childs_result_comes_back_whatever_its_size() -> None:
    """More than a pipe holds: the parent reads it all before waiting for the child."""
    rows = [(i, f"package-{i}" * 10) for i in range(20_000)]
    early = pytest.raises(RuntimeError, match="read after the block")
    with running_beside(lambda: (os.getpid(), rows), "listing") as beside, early:
        beside.value  # noqa: B018  (the property refuses)
    pid, returned = beside.value
    assert pid != os.getpid() and returned == rows


def test_a_hub_error_in_the_child_keeps_its_message_and_hint() -> None:
    def fail() -> None:
        raise HubError("index.json: disk full\nsecond line", hint="free some space")

    with pytest.raises(HubError) as caught, running_beside(fail, "writing the JSON index"):
        pass
    assert (
        caught.value.message == "writing the JSON index failed: index.json: disk full second line"
    )
    assert caught.value.hint == "free some space"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (KeyError("pkg"), r"^checking failed: KeyError: 'pkg'$"),
        (lambda: "a function", r"^checking failed: (PicklingError|AttributeError): Can't pickle"),
    ],
    ids=["another-exception", "a-result-that-cannot-be-sent"],
)
def test_other_failures_in_the_child_name_their_type(result: object, message: str) -> None:
    def work() -> object:
        if isinstance(result, Exception):
            raise result
        return result

    with pytest.raises(HubError, match=message), running_beside(work, "checking"):
        pass


def test_a_child_killed_by_a_signal_is_reported() -> None:
    def die() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)

    killed = r"^writing failed: the worker process ended \(killed by signal 15\) without a result$"
    with pytest.raises(HubError, match=killed), running_beside(die, "writing"):
        pass


def test_a_failing_block_stops_the_child_before_the_caller_cleans_up(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    late = tmp_path / "late"

    def slow() -> None:
        pid_file.write_text(str(os.getpid()))
        time.sleep(5)
        late.write_text("written after the block failed")

    with pytest.raises(ValueError, match="the build failed"), running_beside(slow, "writing"):
        while not pid_file.exists():
            time.sleep(0.01)
        raise ValueError("the build failed")
    child = int(pid_file.read_text())
    assert not Path(f"/proc/{child}").exists()  # stopped and reaped, not a zombie
    assert not late.exists()  # the parent did not wait for the child to finish


def test_with_other_threads_running_the_work_is_done_here() -> None:
    """A fork would copy a lock another thread holds; the work runs in this process."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with running_beside(os.getpid, "listing") as beside:
            pass
        assert beside.value == os.getpid()
        assert (
            split_in_two(lambda part: [os.getpid() for _ in part], range(4), "x", least=2)
            == [os.getpid()] * 4
        )
    finally:
        stop.set()
        thread.join()


def test_split_in_two_keeps_the_order_and_uses_a_child_for_the_second_half() -> None:
    def work(part: Sequence[int]) -> list[tuple[int, int]]:
        return [(item * item, os.getpid()) for item in part]

    assert len(os.sched_getaffinity(0)) >= 2, "split_in_two needs two cores to split"
    results = split_in_two(work, range(101), "squaring", least=100)
    assert [square for square, _ in results] == [i * i for i in range(101)]
    workers = [pid for _, pid in results]
    assert set(workers[:51]) == {os.getpid()} and os.getpid() not in workers[51:]
    alone = split_in_two(work, range(99), "squaring", least=100)
    assert {pid for _, pid in alone} == {os.getpid()}


def test_split_in_two_raises_the_childs_failure() -> None:
    def work(part: Sequence[int]) -> list[int]:
        if 7 in part:
            raise HubError("packages/seven.yaml: cannot read file")
        return list(part)

    with pytest.raises(HubError, match=r"^checking failed: packages/seven.yaml: cannot read file$"):
        split_in_two(work, range(10), "checking", least=2)
