"""What a package name may be: checked before a name becomes part of a URL or a path.

Its own module, apart from the hub index reader, so that what only reads the local install
(`ebpf-hub run NAME` of an installed package) checks names without importing the HTTP stack.
"""

from __future__ import annotations

import re

from ebpf_hub.errors import HubError
from ebpf_hub.safetext import quote
from ebpf_hub.schemas import load_schema

PACKAGE_SCHEMA = "package-index.schema.json"  # its `$defs.name` is the rule


def check_name(name: str) -> None:
    """Refuse what cannot be a package name before it becomes part of a URL or a path."""
    pattern = load_schema(PACKAGE_SCHEMA)["$defs"]["name"]["pattern"]
    if not re.fullmatch(pattern, name):
        raise HubError(
            f"{quote(name)} is not a package name: lowercase letters, digits and single hyphens, "
            "2-64 characters"
        )
