"""A matrix run shown: a table of programs by kernels for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ebpf_hub.matrix.engine import KernelRun
from ebpf_hub.matrix.results import Status

_MARK = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.SKIP: "skip"}


def to_json(runs: Sequence[KernelRun]) -> dict[str, Any]:
    return {
        "ok": not any(run.failed for run in runs),
        "kernels": [
            {
                "kernel": run.kernel.name,
                "arch": run.kernel.arch,
                "package": run.kernel.package,
                "version": run.kernel.version,
                "release": run.release,
                "seconds": round(run.seconds, 1),
                "package_seconds": {name: round(t, 3) for name, t in run.package_seconds},
                "error": run.error or None,
            }
            for run in runs
        ],
        "results": [result.to_json() for run in runs for result in run.results],
    }


def table(runs: Sequence[KernelRun]) -> list[str]:
    """Lines: a row per program with a column per kernel, then the reason of every cell
    that is not a pass, then any kernel whose guest stopped early."""
    rows: dict[tuple[str, str, str], dict[str, Status]] = {}
    for run in runs:
        for result in run.results:
            key = (result.package, result.object, result.program)
            rows.setdefault(key, {})[run.kernel.label] = result.status
    labels = [run.kernel.label for run in runs]
    names = {key: f"{key[0]}  {key[1]}:{key[2]}" for key in rows}
    width = max([len("program"), *(len(name) for name in names.values())])
    widths = [max(len(label), 4) for label in labels]
    lines = ["  ".join(["program".ljust(width), *map(str.ljust, labels, widths)]).rstrip()]
    for key, cells in rows.items():
        marks = [_MARK[cells[label]] if label in cells else "-" for label in labels]
        lines.append("  ".join([names[key].ljust(width), *map(str.ljust, marks, widths)]).rstrip())
    notes = [
        (run.kernel.label, result)
        for run in runs
        for result in run.results
        if result.status is not Status.PASS
    ]
    if notes:
        lines.append("")
    for label, result in notes:
        first, *more = result.reason.splitlines() or [""]
        lines.append(
            f"{label}  {names[(result.package, result.object, result.program)]}  "
            f"{result.status}: {first}"
        )
        lines.extend(f"    {line}" for line in more)
    for run in runs:
        if run.error:
            lines.append(f"{run.kernel.label}: {run.error}")
    return lines
