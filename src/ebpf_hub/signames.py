"""Signal names and numbers, one table for events and parameters alike: an event's signal
field prints `SIGKILL` or `SIGRTMIN+3` (`ebpf_hub.formats.sets`), and a parameter takes the
same names, with or without `SIG`, in any case, and the C library's aliases (`SIGIOT`).

The numbers come from Python's `signal` module, which holds those of the host that loads the
program: the kernel it runs in. Linux numbers signals 1 to 64.
"""

from __future__ import annotations

import signal
from functools import cache
from typing import Final

from ebpf_hub.safetext import quote

MAX_SIGNAL: Final = 64  # _NSIG - 1 on every Linux architecture the hub builds for
ACCEPTED: Final = "a signal name (KILL, SIGKILL) or a number 1-64"


@cache
def signal_names() -> dict[int, str]:
    """Signal number -> name, real-time signals as SIGRTMIN+N like strace and kill -l."""
    rtmin, rtmax = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
    names = {}
    for number in range(1, rtmax + 1):
        if number > rtmin and number != rtmax:
            names[number] = f"SIGRTMIN+{number - rtmin}"
        else:
            try:
                names[number] = signal.Signals(number).name
            except ValueError:
                continue
    return names


@cache
def _numbers() -> dict[str, int]:
    """Every upper-case name (`SIGKILL`, `SIGIOT`, `SIGRTMIN+3`) -> its number."""
    numbers = {name: number for number, name in signal_names().items()}
    numbers.update((name, s.value) for name, s in signal.Signals.__members__.items())
    return numbers


def signal_number(text: str) -> int:
    """The number of the signal `text` names: `KILL`, `SIGKILL`, `sigkill` or `9`."""
    word = text.strip()
    if word.isdigit():
        number = int(word)
        if not 1 <= number <= MAX_SIGNAL:
            raise ValueError(f"{number} is not a signal number")
        return number
    name = word.upper()
    found = _numbers().get(name if name.startswith("SIG") else "SIG" + name)
    if found is None:
        raise ValueError(f"{quote(word)} is not a signal name")
    return found


def signal_name(number: int) -> str:
    """`KILL` for 9 (the form a parameter is written in); the number itself for one with no
    name."""
    return signal_names().get(number, str(number)).removeprefix("SIG")
