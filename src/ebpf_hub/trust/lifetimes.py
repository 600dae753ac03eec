"""How long each role's signature holds: short for what online keys re-sign on every publish,
long for the root that only an offline ceremony changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from ebpf_hub.errors import HubError
from ebpf_hub.safetext import quote

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"([1-9][0-9]{0,6})([smhd])")


@dataclass(frozen=True)
class Lifetimes:
    """Expiry of each online role's metadata, counted from the moment `trust sign` signs it.

    The timestamp is short (a day) so that a server replaying old metadata is caught within
    a day (a freeze); snapshot, targets and bins a week. The root's (a year) is the
    ceremony's `lifetime`.
    """

    targets: timedelta = timedelta(days=7)
    bins: timedelta = timedelta(days=7)
    snapshot: timedelta = timedelta(days=7)
    timestamp: timedelta = timedelta(days=1)


def parse_duration(text: str, field: str) -> timedelta:
    """`30s`, `15m`, `12h`, `7d` as a timedelta; `field` names the option in the error."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise HubError(
            f"{field}: {quote(text)} is not a duration",
            hint="write a whole number and a unit: 30s, 15m, 12h or 7d",
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
