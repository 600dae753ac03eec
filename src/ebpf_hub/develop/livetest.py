"""`ebpf-hub test DIR`: load the built package, attach it, trigger it, and see it produce.

The check a new author needs: the verifier accepts the programs, they attach to hooks that
exist, and the hook really fires, so an event or a non-zero count appears. The package may
ship an executable `trigger` that causes the activity it watches; it runs once attached, and
again every second until something appears. Everything is detached and closed on return.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpf_hub.bpfobj.decode import compile_decoder
from ebpf_hub.bpfobj.eventtype import EVENTS_MAP
from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.build.package import BuiltVersion
from ebpf_hub.errors import HubError
from ebpf_hub.model.modes import Choices
from ebpf_hub.run.events import EventBuffer
from ebpf_hub.run.loader import AttachTargets, LoadedObject, LoaderError
from ebpf_hub.run.maps import MapValue
from ebpf_hub.run.selection import missing_optional

TRIGGER = "trigger"
TRIGGER_TIMEOUT = 60.0
RETRIGGER_EVERY = 1.0
POLL_MS = 100


@dataclass
class ObjectResult:
    """What one object produced while attached."""

    file: str
    programs: list[str]
    events: int = 0
    first_event: Any = None
    counts: dict[str, int] = field(default_factory=dict)  # output map -> non-zero entries

    @property
    def produced(self) -> bool:
        return self.events > 0 or any(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "programs": self.programs,
            "events": self.events,
            "firstEvent": self.first_event,
            "counts": self.counts,
        }


@dataclass
class LiveResult:
    """The outcome of `ebpf-hub test`: it passed if any object produced output."""

    label: str
    objects: list[ObjectResult]
    triggered: int  # how many times the trigger ran
    seconds: float

    @property
    def ok(self) -> bool:
        return any(result.produced for result in self.objects)

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.label,
            "ok": self.ok,
            "triggered": self.triggered,
            "seconds": round(self.seconds, 3),
            "objects": [result.to_json() for result in self.objects],
        }


def _non_zero(value: MapValue) -> bool:
    return any(any(v) for v in value) if isinstance(value, list) else any(value)


def _trigger(directory: Path) -> Path | None:
    path = directory / TRIGGER
    if not path.exists():
        return None
    if not path.is_file() or not path.stat().st_mode & 0o111:
        raise HubError(f"{path} is not an executable file; run: chmod +x {path}")
    return path


def _run_trigger(path: Path) -> None:
    try:
        done = subprocess.run(
            [str(path)],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=TRIGGER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HubError(f"{path} ran longer than {TRIGGER_TIMEOUT:.0f} s; make it finish") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise HubError(f"{path} exited with {done.returncode}: {' / '.join(tail) or 'no output'}")


class _Watch:
    """One loaded, attached object and the output it produced so far."""

    def __init__(
        self,
        stack: ExitStack,
        path: Path,
        targets: AttachTargets,
        maps: Sequence[str],
        choices: Choices,
    ) -> None:
        info = inspect_object(path)
        # every mode's programs at once; an optional one whose hook is missing here left out
        skip = set(missing_optional(choices, [info]))
        loaded = stack.enter_context(LoadedObject.open(path, targets=targets, skip=skip))
        loaded.load()
        loaded.attach_all()
        self._loaded = loaded
        programs = [f"{p.name} ({p.section})" for p in loaded.programs() if p.name not in skip]
        self.result = ObjectResult(path.name, programs)
        names = {m.name for m in loaded.maps()}
        self._maps = [name for name in maps if name in names]
        self._events: EventBuffer | None = None
        if EVENTS_MAP in names and info.event_type_id is not None:
            decode = compile_decoder(info.btf, info.event_type_id)

            def on_record(raw: bytes) -> None:
                if self.result.events == 0:
                    self.result.first_event = decode(raw)
                self.result.events += 1

            self._events = loaded.events(EVENTS_MAP, on_record)

    def poll(self, timeout_ms: int) -> None:
        """Wait up to `timeout_ms` for events, then read the output maps."""
        if self._events is not None:
            self._events.poll(timeout_ms)
        else:
            time.sleep(timeout_ms / 1000)
        for name in self._maps:
            values = (value for _, value in self._loaded.map(name).items())
            self.result.counts[name] = sum(1 for value in values if _non_zero(value))


def live_test(
    directory: Path, built: BuiltVersion, *, iface: str = "lo", timeout: float = 10.0
) -> LiveResult:
    """Attach every object of `built`, trigger, and wait up to `timeout` s for output.

    `iface` is where XDP and TC programs attach; the loopback interface sees the trigger's
    local traffic.
    """
    label = f"{built.package.name}@{built.version.version}"
    output = built.config.output
    output_maps = [entry.map for entry in output.output_maps]
    if not output.events and not output_maps:
        raise HubError(
            f"{label} declares no output (output.events or output.maps in the manifest), "
            "so there is nothing to check"
        )
    trigger = _trigger(directory)
    targets = AttachTargets(iface=iface)
    started = time.monotonic()
    triggered = 0
    with ExitStack() as stack:
        watches = []
        for path in built.files:
            if path.name.endswith(".bpf.o"):
                try:
                    watches.append(_Watch(stack, path, targets, output_maps, built.config.choices))
                except LoaderError as exc:
                    raise HubError(f"{label}: {path.name}: {exc}") from None
        last_trigger = -RETRIGGER_EVERY
        while True:
            now = time.monotonic()
            if trigger is not None and now - last_trigger >= RETRIGGER_EVERY:
                _run_trigger(trigger)
                triggered += 1
                last_trigger = time.monotonic()
            for watch in watches:
                watch.poll(POLL_MS // len(watches))
            results = [watch.result for watch in watches]
            if any(r.produced for r in results) or time.monotonic() - started >= timeout:
                break
    return LiveResult(label, results, triggered, time.monotonic() - started)
