"""The package names the site's "did you mean" compares a search with, as one small file.

Material's search (lunr) matches words as typed, or with a trailing wildcard: "exesnoop" finds
nothing. The site's script (`assets/hub.js`) loads this list once, when the search box is
focused, and offers the names within a typo or two of a word typed; it is far smaller than the
search index or the JSON index, which it would otherwise have to read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ebpf_hub.model.package import Package

NAMES_PATH = Path("search/package-names.json")


def write_names(packages: Sequence[Package], site: Path) -> None:
    """Write the sorted names of `packages` to NAMES_PATH in the built `site`."""
    target = site / NAMES_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(package.name for package in packages)
    target.write_text(json.dumps(names, separators=(",", ":")), encoding="utf-8")
