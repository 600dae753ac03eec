"""Log2 histograms as bcc's tools draw them.

Slot i of a histogram value counts values v with ebpf_hub_log2_slot(v) == i (ebpf_hub.h):
slot 0 holds 0, slot 1 holds 1, slot 2 holds 2-3, slot i holds 2^(i-1) .. 2^i - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_STARS = 40


@dataclass(frozen=True)
class Bucket:
    low: int
    high: int
    count: int


def buckets(slots: Sequence[int]) -> list[Bucket]:
    """The slots up to the last non-empty one, with the value range each covers."""
    last = max((i for i, count in enumerate(slots) if count), default=-1)
    return [Bucket((1 << i) >> 1, (1 << i) - 1, slots[i]) for i in range(last + 1)]


def render(slots: Sequence[int], unit: str) -> str:
    """The histogram as text lines, bars scaled to the fullest slot (bcc's print_log2_hist)."""
    rows = buckets(slots)
    if not rows:
        return f"     {unit:<19} : (no values)\n"
    wide = rows[-1].high >= 1 << 32
    width, stars = (20, _STARS // 2) if wide else (10, _STARS)
    peak = max(b.count for b in rows)
    lines = [f"{'':>{width - 5}}{unit:<{width + 9}} : count    distribution\n"]
    for bucket in rows:
        bar = "*" * (bucket.count * stars // peak) if peak else ""
        span = f"{bucket.low:>{width}} -> {bucket.high:<{width}}"
        lines.append(f"{span} : {bucket.count:<8} |{bar:<{stars}}|\n")
    return "".join(lines)
