"""TOML parsing: the standard library's tomllib from Python 3.11, and before it tomli, the
same parser as it was published before it joined the standard library (the client runs on
Python 3.9: README, "Install")."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, loads  # novermin: imported on 3.11 and later only
else:
    from tomli import TOMLDecodeError, loads

__all__ = ["TOMLDecodeError", "loads"]
