"""The loader's lines on the guest's console, found among the kernel's and parsed.

The loader writes each record as one line, `@@ebpf-hub@@ ` and a JSON object: first the
guest's facts (kernel release, machine, whether BTF is there), then one per program (its
object, name, section, the phase that failed or "done", errno, libbpf's log, the
microseconds it took; a trigger run's also names the optional programs it left out), then
`{"done": true}`. Anything else on the console (kernel messages, firmware noise) is ignored,
and is kept only to explain a guest that stopped early.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MARK = "@@ebpf-hub@@ "


@dataclass(frozen=True)
class Attempt:
    """What the loader saw for one program: `phase` is "done" when it loaded and attached."""

    object: str
    program: str
    section: str
    phase: str
    errno: int
    log: str
    usec: int  # the guest's time for it: open, load, attach, detach
    left_out: tuple[str, ...] = ()  # a trigger run's: optional programs whose hook is missing


@dataclass(frozen=True)
class GuestReport:
    release: str
    machine: str
    btf: bool
    attempts: tuple[Attempt, ...]
    finished: bool
    noise: tuple[str, ...]  # the console's other lines, last ones kept


NOISE_KEPT = 12


def parse_console(console: str) -> GuestReport:
    """The loader's records in `console`; a line that is not whole JSON counts as noise."""
    facts: dict[str, object] = {}
    attempts: list[Attempt] = []
    noise: list[str] = []
    finished = False
    for raw in console.splitlines():
        line = raw.strip("\r\x00")
        at = line.find(MARK)
        record = _record(line[at + len(MARK) :]) if at >= 0 else None
        if record is None:
            if line.strip():
                noise.append(line)
        elif record.get("done") is True:
            finished = True
        elif "program" in record:
            attempts.append(_attempt(record))
        else:
            facts = record
    return GuestReport(
        release=str(facts.get("kernel", "")),
        machine=str(facts.get("machine", "")),
        btf=facts.get("btf") is True,
        attempts=tuple(attempts),
        finished=finished,
        noise=tuple(noise[-NOISE_KEPT:]),
    )


def _record(text: str) -> dict[str, object] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _number(value: object) -> int:
    return value if isinstance(value, int) else 0


def _attempt(record: dict[str, object]) -> Attempt:
    return Attempt(
        object=str(record.get("object", "")),
        program=str(record.get("program", "")),
        section=str(record.get("section", "")),
        phase=str(record.get("phase", "")),
        errno=_number(record.get("errno")),
        log=str(record.get("log", "")),
        usec=_number(record.get("usec")),
        left_out=tuple(str(name) for name in _list(record.get("left_out"))),
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
