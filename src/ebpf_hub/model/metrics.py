"""The Prometheus metric names of a package: what `run --metrics` serves and the site lists.

The names are a contract with the dashboards people build (Grafana panels, alert rules), so
they are made in one place: `ebpf_hub.run.metrics` serves them, `ebpf_hub.site` shows them on
each package page before anyone has run the package. Nothing heavy is imported here.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from ebpf_hub.model.package import Output

PREFIX: Final = "ebpf_hub"
EVENTS: Final = "events"  # ebpf_hub_events_total{package, object, type}
EVENTS_LOST: Final = "events_lost"
# What a histogram's `unit` is when the package declares none: no unit in the name.
NO_UNIT: Final = "value"
_NOT_NAME: Final = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(*parts: str) -> str:
    """`ebpf_hub_PART_PART...`, each part with what a metric name cannot hold made `_`."""
    return "_".join(_NOT_NAME.sub("_", part) for part in (PREFIX, *parts) if part)


class MetricName(NamedTuple):
    """One family a package's run serves: its name as Prometheus shows it, its type, and what
    it holds (`FIELD` stands for each numeric field of the map's value)."""

    name: str
    type: str
    holds: str


def package_metrics(package: str, output: Output) -> list[MetricName]:
    """The families `ebpf-hub run PACKAGE --metrics` serves for the output it declares."""
    found = []
    for declared in output.output_maps:
        if declared.kind == "histogram":
            unit = "" if declared.unit in (None, NO_UNIT) else declared.unit or ""
            name = metric_name(package, declared.map, unit)
            found.append(MetricName(f"{name}_bucket", "histogram", f"map {declared.map}, log2"))
        elif declared.kind == "counter":
            name = metric_name(package, declared.map)
            found.append(
                MetricName(f"{name}[_FIELD]_total", "counter", f"map {declared.map}, per key")
            )
        else:
            name = metric_name(package, declared.map)
            found.append(MetricName(f"{name}[_FIELD]", "gauge", f"map {declared.map}, per key"))
    if output.events:
        events = "events sent, by object and event type"
        found.append(MetricName(f"{metric_name(EVENTS)}_total", "counter", events))
        lost = "events a full perf buffer dropped"
        found.append(MetricName(f"{metric_name(EVENTS_LOST)}_total", "counter", lost))
    return found
