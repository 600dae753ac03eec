"""One `ebpf-hub run`: check, confirm, load, attach, print until told to stop, detach.

Order matters for the promise "nothing stays behind": everything that can fail without
touching the kernel (reading the objects, parameters, output maps, preflight, the user's
consent) happens before the first load, and everything loaded lives in one ExitStack that
unwinds on any exit. Ctrl-C and SIGTERM end a run the normal way (final maps printed, exit
status 0) once tracing has started; before that they abort it. A crash of this process
leaves nothing either: every attachment is a link on one of its file descriptors.

Consent: the package's permissions are always shown on stderr. With `--yes` the run goes
ahead; on a terminal the user is asked; with neither (a script, a pipe on stdin) the run
is refused, since nobody could have read what it is about to do.
"""

from __future__ import annotations

import select
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ebpf_hub.bpfobj.inspect import ObjectInfo, inspect_object
from ebpf_hub.client.console import silence
from ebpf_hub.errors import HubError
from ebpf_hub.formats.plan import event_plan
from ebpf_hub.model.package import Output
from ebpf_hub.run import permissions, preflight
from ebpf_hub.run.attach import AttachTargets
from ebpf_hub.run.events import EventBuffer
from ebpf_hub.run.filters import FilterPlan, FilterValues, plan_filters, refuse_overlap
from ebpf_hub.run.formatted import EventFormat
from ebpf_hub.run.loader import LoadedObject
from ebpf_hub.run.maps import EVENT_MAPS, Map
from ebpf_hub.run.params import encode_parameters, parse_extra_args, parse_param_options
from ebpf_hub.run.selection import Selection, select_programs
from ebpf_hub.run.target import RunTarget
from ebpf_hub.safetext import escape

if TYPE_CHECKING:
    from ebpf_hub.run.mapview import OutputMap
    from ebpf_hub.run.metrics import Exporter

EVENTS_MAP = "events"  # the convention of ebpf_hub.h
_BATCH = 4096  # lines held before a write: few system calls, bounded memory
# After a wakeup, let records gather this long (seconds) before reading them: a ring buffer
# wakes its reader for the first record after it has caught up, so reading at once means a
# wakeup per record under load. 1 ms costs nothing in latency and, at 200,000 events/s,
# holds 200 records: far from filling any buffer.
_GATHER = 0.001

Ask = Callable[[str], bool]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so that both unwind the same way."""


@dataclass(frozen=True)
class RunOptions:
    """How to run: output form, timing, consent, parameters and attach targets."""

    json: bool = False
    duration: float | None = None
    interval: float | None = None
    yes: bool = False
    params: Sequence[str] = ()  # --param NAME=VALUE
    extra: Sequence[str] = ()  # the words after --
    targets: AttachTargets = field(default_factory=AttachTargets)
    mode: str | None = None  # --mode NAME: one of the package's modes (else its default)
    filters: FilterValues = field(default_factory=FilterValues)  # --pid, --comm, --cgroup...
    metrics: str | None = None  # --metrics ADDR:PORT
    timestamp: bool = False  # --timestamp: a TIME column
    raw: bool = False  # --raw: the declared formats ignored


@dataclass
class _Prepared:
    """Everything decided before the kernel is touched."""

    objects: list[ObjectInfo]
    params: list[dict[str, bytes]]
    formats: list[EventFormat | None]  # per object: how its events print, if it has any
    outputs: list[tuple[int, OutputMap]]  # (object index, map)
    selection: Selection  # the mode, and the programs left out
    filters: FilterPlan  # what --pid, --cgroup... set


def prepare(target: RunTarget, options: RunOptions) -> _Prepared:
    """Read the objects and check parameters and outputs: errors here load nothing."""
    objects = [inspect_object(path) for path in target.objects]
    choices = target.declared.choices
    selection = select_programs(target.label, choices, objects, options.mode)
    cgroup_attach = any(
        (p.kind or "").startswith("cgroup") and p.name not in selection.skipped
        for info in objects
        for p in info.programs
    )
    plan = plan_filters(target.label, choices, options.filters, cgroup_attach)
    known = {p.name: p for info in objects for p in info.parameters}
    param_decls = {d.name: d for d in target.declared.parameters}
    assignments = [
        *parse_param_options(options.params),
        *parse_extra_args(options.extra, known, param_decls),
    ]
    refuse_overlap(plan, assignments)
    assignments += plan.assignments
    params = encode_parameters(assignments, [info.parameters for info in objects], param_decls)
    formats = [_event_format(info, target, options) for info in objects]
    outputs = []
    for entry in target.declared.output.output_maps:
        # Map views are imported by a package that has output maps: most print events only.
        from ebpf_hub.run.mapview import OutputMap, OutputSpec

        spec = OutputSpec.from_config(entry, raw=options.raw)
        found = [(i, m) for i, info in enumerate(objects) for m in info.maps if m.name == spec.map]
        if not found:
            raise HubError(f"output map {spec.map!r} is not in the package's objects")
        index, declared = found[0]
        outputs.append((index, OutputMap(spec, declared, objects[index].btf, target.label)))
    return _Prepared(objects, params, formats, outputs, selection, plan)


def _event_format(info: ObjectInfo, target: RunTarget, options: RunOptions) -> EventFormat | None:
    events = next((m for m in info.maps if m.name == EVENTS_MAP), None)
    if info.event is None or events is None or events.type not in EVENT_MAPS:
        return None
    output = Output() if options.raw else target.declared.output
    return EventFormat(info.event, event_plan(output, info.event, target.label), options.timestamp)


def run(target: RunTarget, options: RunOptions, ask: Ask | None, out: TextIO, err: TextIO) -> int:
    """Run `target` until --duration, Ctrl-C or SIGTERM. `ask` puts a yes/no question to
    the user (None: nobody can answer)."""
    prepared = prepare(target, options)
    skipped = prepared.selection.skipped
    checks = preflight.package_checks(target.declared.requires, prepared.objects, skipped)
    preflight.require(checks, target.label)
    for note in prepared.selection.notes:
        _tell(err, f"ebpf-hub: {target.label}: {note}")
    _consent(target, prepared, options, ask, err)
    with _stop_signals(), ExitStack() as stack:
        exporter = _serve_metrics(target.label, options.metrics, stack, err)
        loaded = _load(target, prepared, options.targets, stack)
        printer = _Printer(out)
        buffers = _open_events(prepared, loaded, printer, options.json)
        maps = [(spec, loaded[i].map(spec.spec.map)) for i, spec in prepared.outputs]
        if exporter is not None:
            exporter.publish(maps, target.objects, prepared.formats, buffers)
            stack.callback(exporter.withdraw)  # unwinds first: no scrape reads a closed map
        until = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
        _tell(err, f"ebpf-hub: {target.label}: {_attached(prepared)}; tracing {until}")
        started = time.monotonic()
        _trace(buffers, maps, printer, options)
        elapsed = time.monotonic() - started
        summary = ""
        if buffers:
            summary = f"; {_count(sum(b.delivered for b in buffers), 'event')}"
        if lost := sum(b.lost for b in buffers):
            summary += f", {lost} lost (perf buffer full)"
    _tell(err, f"ebpf-hub: {target.label}: detached after {elapsed:.1f} s{summary}")
    return 0


def _serve_metrics(
    label: str, address: str | None, stack: ExitStack, err: TextIO
) -> Exporter | None:
    """--metrics: served before anything loads (a port in use loads nothing), stopped last;
    prometheus-client is imported only here, so a run without it starts no slower."""
    if address is None:
        return None
    from ebpf_hub.run.metrics import Exporter

    exporter = Exporter.serve(address, label)
    stack.callback(exporter.close)
    _tell(err, f"ebpf-hub: {label}: metrics at {exporter.url}")
    return exporter


def _tell(err: TextIO, message: str) -> None:
    """One line on `err`; the package's name and summary are the registry's text: escaped."""
    print(escape(message), file=err)


def _attached(prepared: _Prepared) -> str:
    """`attached 3 programs`, and with modes which mode and programs: what the events
    come from (a ring buffer record does not say which program wrote it)."""
    selection = prepared.selection
    names = [
        p.name
        for info in prepared.objects
        for p in info.programs
        if p.name not in selection.skipped
    ]
    attached = f"attached {_count(len(names), 'program')}"
    if selection.mode is None:
        return attached
    return f"mode {selection.mode.name}: {attached} ({', '.join(names)})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _consent(
    target: RunTarget, prepared: _Prepared, options: RunOptions, ask: Ask | None, err: TextIO
) -> None:
    summary = target.declared.summary
    lines = permissions.describe(
        target.declared.permissions,
        prepared.objects,
        options.targets,
        prepared.selection.skipped,
    )
    _tell(err, f"{target.label}" + (f": {summary}" if summary else ""))
    _tell(err, "It will:")
    for line in lines:
        _tell(err, f"  - {line}")
    if options.yes:
        return
    if ask is None:
        raise HubError(
            "no terminal to confirm on: read what the package will do (above) and pass --yes"
        )
    if not ask("Run it? [y/N] "):
        raise HubError("not run: the permissions were declined")


def _load(
    target: RunTarget, prepared: _Prepared, targets: AttachTargets, stack: ExitStack
) -> list[LoadedObject]:
    """Open every object (attach plans fail here), then load all, then attach all."""
    loaded = [
        stack.enter_context(LoadedObject.open(path, params, targets, prepared.selection.skipped))
        for path, params in zip(target.objects, prepared.params)
    ]
    for obj, info in zip(loaded, prepared.objects):
        obj.load()
        plan = prepared.filters
        for name in plan.cgroup_maps:
            if plan.cgroup is not None and any(m.name == name for m in info.maps):
                obj.fill_cgroup_array(name, plan.cgroup)
    for obj in loaded:
        obj.attach_all()
    return loaded


class _Printer:
    """Output lines gathered and written in batches: events arrive by the thousand."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.pending: list[str] = []

    def sink(self, form: Callable[[bytes], str]) -> Callable[[bytes], None]:
        """The per-record callback: the hot path, hence the local names."""
        pending = self.pending
        append = pending.append
        flush = self.flush

        def on_record(record: bytes) -> None:
            append(form(record))
            if len(pending) >= _BATCH:
                flush()

        return on_record

    def write(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        if self.pending:
            self.out.write("".join(self.pending))
            self.pending.clear()
        self.out.flush()


def _open_events(
    prepared: _Prepared, loaded: list[LoadedObject], printer: _Printer, json: bool
) -> list[EventBuffer]:
    buffers = []
    for form, obj in zip(prepared.formats, loaded):
        if form is None:
            continue
        if not json:
            printer.write(form.header)
        buffers.append(obj.events(EVENTS_MAP, printer.sink(form.json if json else form.row)))
    return buffers


def _trace(
    buffers: list[EventBuffer],
    maps: list[tuple[OutputMap, Map]],
    printer: _Printer,
    options: RunOptions,
) -> None:
    """Deliver events as they come and print the maps every interval, until the duration
    ends or a signal stops it; then whatever is left, and the maps one last time."""
    start = time.monotonic()
    deadline = start + options.duration if options.duration else None
    next_maps = start + options.interval if options.interval and maps else None
    try:
        with select.epoll() as poller:
            for buffer in buffers:
                poller.register(buffer.fileno(), select.EPOLLIN)
            while deadline is None or time.monotonic() < deadline:
                wake = min((t for t in (deadline, next_maps) if t is not None), default=None)
                timeout = -1.0 if wake is None else max(0.0, wake - time.monotonic())
                if poller.poll(timeout):
                    time.sleep(_GATHER)
                for buffer in buffers:
                    buffer.consume()
                if next_maps is not None and time.monotonic() >= next_maps:
                    _print_maps(maps, printer, options.json)
                    next_maps += options.interval or 0
                printer.flush()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the normal end of a run
        pass
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        silence(printer.out)
        return
    for buffer in buffers:
        buffer.consume()
    _print_maps(maps, printer, options.json)
    try:
        printer.flush()
    except BrokenPipeError:
        silence(printer.out)


def _print_maps(maps: list[tuple[OutputMap, Map]], printer: _Printer, json: bool) -> None:
    for view, loaded in maps:
        entries = view.entries(loaded)
        printer.write(view.json(entries) if json else "\n" + view.text(entries))


@contextmanager
def _stop_signals() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt even if the shell started us with SIGINT ignored,
    and SIGTERM raises Terminated: both unwind through the ExitStack that detaches."""

    def terminate(_signum: int, _frame: FrameType | None) -> Any:
        raise Terminated

    previous = (
        signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.signal(signal.SIGTERM, terminate),
    )
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def ask_on_terminal() -> Ask | None:
    """A question to the user on the terminal, or None when stdin is not one."""
    if not sys.stdin.isatty():
        return None

    def ask(question: str) -> bool:
        print(question, end="", file=sys.stderr, flush=True)  # stdout is for the output
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return ask
