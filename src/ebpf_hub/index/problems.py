"""A problem found in an index file, reported as `path:line: field: message (hint)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

Path_ = tuple[Union[str, int], ...]


def field_name(path: Path_) -> str:
    """Render a path inside a document the way a reader writes it: `versions[1].version`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(file)"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file; every problem is reported, not only the first."""

    path: str
    line: int
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.field}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }
