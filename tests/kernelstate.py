"""What the kernel holds, as bpftool and /proc see it: for tests that check that what they
loaded is gone again. Ids are collected per process (fdinfo), so tests that run in parallel,
or anything else loading programs on the machine, cannot confuse them."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def bpftool(*args: str) -> list[dict[str, object]]:
    out = subprocess.run(["bpftool", *args, "-j"], check=True, capture_output=True).stdout
    return json.loads(out or b"[]")  # type: ignore[no-any-return]


def held_prog_ids(pid: int | str = "self") -> set[int]:
    """Ids of the BPF programs a process holds open, as its fdinfo tells: exactly one test's
    own programs, even with other tests loading theirs in parallel."""
    ids = set()
    for fdinfo in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            match = re.search(r"^prog_id:\s*(\d+)", fdinfo.read_text(), re.MULTILINE)
        except OSError:  # closed since the listing
            continue
        if match:
            ids.add(int(match.group(1)))
    return ids


def prog_ids(*names: str) -> set[int]:
    """Ids of the loaded programs, or of those with one of `names` (the test programs' names
    fit the kernel's 15 characters)."""
    return {
        int(str(p["id"])) for p in bpftool("prog", "list") if not names or p.get("name") in names
    }


def links_of(progs: set[int]) -> set[int]:
    return {
        int(str(link["id"])) for link in bpftool("link", "list") if link.get("prog_id") in progs
    }


def assert_gone(progs: set[int], links: set[int]) -> None:
    """The kernel frees a detached program's last reference after an RCU grace period or from
    a workqueue, so on a busy machine its id lingers for a moment: allow a few seconds."""
    assert progs, "the test saw no program of its own loaded"
    wait_for(lambda: not progs & prog_ids(), message="programs still loaded after close")
    assert not links & {int(str(link["id"])) for link in bpftool("link", "list")}


def wait_for(
    condition: Callable[[], bool], timeout: float = 5.0, message: str = "timed out"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)
