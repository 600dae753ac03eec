"""`StrEnum`: the standard library's from Python 3.11, its equivalent before.

An enum whose members are strings that print as their value: what a verdict or a status is
when it goes into JSON, a table or a message. The client runs on Python 3.9 (README,
"Install"), whose enum module does not have it yet.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum  # novermin: imported on 3.11 and later only
else:
    from enum import Enum

    class StrEnum(str, Enum):
        """Members are their value: equal to it, JSON-encoded as it, and printed as it."""

        def __str__(self) -> str:
            return str.__str__(self)


__all__ = ["StrEnum"]
