"""`ebpf-hub run --metrics ADDR:PORT`: the package's output maps and event counts, served in
the Prometheus exposition format (prometheus-client, imported only by this module, which the
runner imports only when --metrics is given: the CLI's start-up stays as fast as it was).

Maps are read when Prometheus scrapes, as exporters of kernel state do (node_exporter,
ebpf_exporter): each scrape sees the map as it is then. They are read and decoded by the same
`OutputMap.entries()` that prints them, so `--json` and a scrape at the same moment agree.

What each output map becomes (the site's Install page lists the metric names):

- `histogram`: a classic Prometheus histogram with a bucket per log2 slot. Slot i of a value
  counts 2^(i-1) .. 2^i - 1 (integers), so its bucket is `le="2^i - 1"`; the last slot also
  holds everything above (ebpf_hub_log2_slot's clamp), so its bucket is `le="+Inf"`, the total.
  No `_sum`, and so no `_count` (OpenMetrics has a histogram give `_count` only beside
  `_sum`): a log2 map counts values per slot and never adds them up. Not native histograms:
  prometheus-client writes those only in the draft OpenMetrics 2.0 text, which Prometheus
  does not read (it takes native histograms from its own protobuf format only, which
  prometheus-client does not write). Prometheus 3 can still store these buckets as a native
  histogram with custom buckets (`convert_classic_histograms_to_nhcb`).
- `counter`: a counter per numeric value field (`_total`).
- `table`: a gauge per numeric value field: a table's fields may go down as well as up.

Labels come from the key's fields, as `run` prints them: a declared format's text
(`key="openat"`, not 257), a `hidden` field no label. Map keys are the kernel's data and
whoever runs the traced processes chooses them (a command name, a file name), so a label
value is escaped as the CLI escapes what it prints (ebpf_hub.safetext) and cut at
`LABEL_LIMIT` characters; keys that read the same after that are added up, so a scrape never
holds one series twice.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Final

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ebpf_hub.errors import HubError
from ebpf_hub.model.metrics import EVENTS, EVENTS_LOST, NO_UNIT, metric_name
from ebpf_hub.run.eventfmt import Column, cell, lookup
from ebpf_hub.run.events import EventBuffer
from ebpf_hub.run.formatted import EventFormat
from ebpf_hub.run.maps import Map
from ebpf_hub.run.mapview import Entry, OutputMap
from ebpf_hub.run.target import object_stem
from ebpf_hub.safetext import clip, escape, quote

LABEL_LIMIT: Final = 128  # characters of a label value before it is cut
# Label names Prometheus gives a meaning: a key field of that name gets a `key_` prefix.
_RESERVED_LABELS: Final = frozenset({"le", "quantile"})
_NOT_NAME: Final = re.compile(r"[^a-zA-Z0-9_]")
_ADDRESS_HINT: Final = "give ADDR:PORT, e.g. --metrics 127.0.0.1:9435 or --metrics [::1]:9435"


@dataclass(frozen=True)
class Address:
    """Where --metrics serves: a host (name or IP literal, no brackets) and a port (0: any)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        host, colon, port = text.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not (colon and host and port.isascii() and port.isdigit()) or int(port) > 65535:
            raise HubError(f"--metrics {quote(text)} is not ADDR:PORT", hint=_ADDRESS_HINT)
        return cls(host, int(port))


@dataclass(frozen=True)
class EventSource:
    """One object's event buffer, counted per object and event type."""

    object: str
    type: str
    buffer: EventBuffer


def package_name(label: str) -> str:
    """The package's name in metric names, from the run's label: `NAME@VERSION`, or the
    path of its sources, objects or object (`sources/runqlat`, `x/runqlat.bpf.o`)."""
    path = os.path.abspath(label)  # noqa: PTH100 - lexical (`.`, `..`): follows no link
    return object_stem(PurePath(path).name.partition("@")[0])


def label_names(columns: Sequence[Column]) -> list[str]:
    """A label name per key column: `a.b` reads `a_b`; a name Prometheus reserves, starts
    with a digit or `__`, or repeats an earlier one is made unique with a `key_` prefix."""
    names: list[str] = []
    for column in columns:
        name = _NOT_NAME.sub("_", ".".join(column.path) or "key")
        while name in _RESERVED_LABELS or name[0].isdigit() or name.startswith("__"):
            name = f"key_{name}"
        while name in names:
            name = f"key_{name}"
        names.append(name)
    return names


def label_value(part: Any) -> str:
    """A decoded key part as a label value: escaped as the CLI prints it, cut if long."""
    return clip(cell(part), LABEL_LIMIT)


def map_families(package: str, view: OutputMap, entries: Sequence[Entry]) -> list[Metric]:
    """An output map's decoded entries as metric families (see the module's docstring)."""
    spec = view.spec
    columns = view.key_columns
    names = label_names(columns)
    rows = [
        (tuple(clip(text, LABEL_LIMIT) for text in view.key_texts(key)), value)
        for key, value in entries
    ]
    help_text = escape(spec.title)  # the package author's words
    slots_of = view.slots
    if slots_of is not None:  # a histogram
        unit = "" if spec.unit == NO_UNIT else spec.unit
        name = metric_name(package, spec.map, unit)
        return [_histogram(name, help_text, names, [(k, slots_of(v)) for k, v in rows])]
    family = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
    families: list[Metric] = []
    for column in view.value_columns:
        sums = _add_up((labels, lookup(value, column.path)) for labels, value in rows)
        if not sums:  # not a number: a string, an array, an enum's name
            continue
        name = metric_name(package, spec.map, *column.path)
        field = ".".join(column.path)
        metric = family(name, f"{help_text} ({field})" if field else help_text, labels=names)
        for labels, number in sums.items():
            metric.add_metric(list(labels), number)
        families.append(metric)
    return families


def _add_up(rows: Iterable[tuple[tuple[str, ...], Any]]) -> dict[tuple[str, ...], float]:
    """The numbers per label set, those of keys that read the same added up."""
    sums: dict[tuple[str, ...], float] = {}
    for labels, number in rows:
        if isinstance(number, (int, float)):  # bool too: 0 or 1
            sums[labels] = sums.get(labels, 0) + number
    return sums


def _histogram(
    name: str, help_text: str, names: list[str], rows: list[tuple[tuple[str, ...], list[int]]]
) -> HistogramMetricFamily:
    merged: dict[tuple[str, ...], list[int]] = {}
    for labels, slots in rows:
        before = merged.get(labels, [0] * len(slots))
        merged[labels] = [a + b for a, b in zip(before, slots)]
    metric = HistogramMetricFamily(name, help_text, labels=names)
    for labels, slots in merged.items():
        metric.add_metric(list(labels), cumulative_buckets(slots), sum_value=None)
    return metric


def cumulative_buckets(slots: Sequence[int]) -> list[tuple[str, float]]:
    """Log2 slots as Prometheus buckets: `le` the highest value of each slot but the last,
    which holds everything from 2^(n-2) up (ebpf_hub_log2_slot's clamp) and is `+Inf`."""
    buckets = []
    total = 0
    for index, count in enumerate(slots):
        total += count
        bound = str(float((1 << index) - 1)) if index < len(slots) - 1 else "+Inf"
        buckets.append((bound, float(total)))
    return buckets or [("+Inf", 0.0)]


def event_families(package: str, events: Sequence[EventSource]) -> list[Metric]:
    """How many events each object's programs sent, and lost (a full perf buffer)."""
    names = ["package", "object", "type"]
    sent = CounterMetricFamily(
        metric_name(EVENTS), "Events the package's programs sent, as delivered", labels=names
    )
    lost = CounterMetricFamily(
        metric_name(EVENTS_LOST),
        "Events the kernel dropped from a full perf buffer",
        labels=names,
    )
    for source in events:
        labels = [label_value(package), label_value(source.object), label_value(source.type)]
        sent.add_metric(labels, source.buffer.delivered)
        lost.add_metric(labels, source.buffer.lost)
    return [sent, lost]


class Exporter(Collector):
    """Serves /metrics from a thread of its own; the sockets bind at once (a port in use is
    an error before anything loads) and scrapes see nothing until `publish`. `withdraw`
    waits for a scrape in progress, so once it returns no map is read again: call it before
    the maps close (a closed fd's number may be reused by anything)."""

    @classmethod
    def serve(cls, address: str, label: str) -> Exporter:
        """An exporter for `--metrics ADDR:PORT` of the run labelled `label`."""
        return cls(Address.parse(address), package_name(label))

    def __init__(self, address: Address, package: str) -> None:
        self._package = package
        self._lock = threading.Lock()
        self._maps: Sequence[tuple[OutputMap, Map]] = ()
        self._events: Sequence[EventSource] = ()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        try:
            self._server, self._thread = start_http_server(address.port, address.host, registry)
        except OSError as exc:
            where = f"{address.host}:{address.port}"
            raise HubError(
                f"--metrics {quote(where)}: cannot serve there ({exc.strerror or exc})",
                hint="choose a free port on an address of this host",
            ) from None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else host
        return f"http://[{text}]:{port}/metrics" if ":" in text else f"http://{text}:{port}/metrics"

    def publish(
        self,
        maps: Sequence[tuple[OutputMap, Map]],
        objects: Sequence[Path],
        formats: Sequence[EventFormat | None],
        buffers: Sequence[EventBuffer],
    ) -> None:
        """Serve `maps` from now on, and the counts of `buffers`: those of the `objects`
        that have an event format, in their order."""
        with_events = [(p, f) for p, f in zip(objects, formats) if f is not None]
        sources = [
            EventSource(object_stem(path.name), form.layout.type, buffer)
            for (path, form), buffer in zip(with_events, buffers)
        ]
        with self._lock:
            self._maps, self._events = maps, sources

    def withdraw(self) -> None:
        """Read no map again (a scrape under way finishes first); serve nothing."""
        with self._lock:
            self._maps, self._events = (), ()

    def close(self) -> None:
        """Withdraw, stop serving, and free the port."""
        self.withdraw()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def collect(self) -> list[Metric]:
        """What prometheus-client serves on each scrape, read under the lock `withdraw` takes."""
        with self._lock:
            families = [
                family
                for view, loaded in self._maps
                for family in map_families(self._package, view, view.entries(loaded))
            ]
            if self._events:
                families.extend(event_families(self._package, self._events))
        return families
