"""One license, said three times: the package's SPDX expression, the object's `license`
section and the LICENSE file must agree.

The kernel reads the object's section (only a GPL-compatible string unlocks GPL-only
helpers), users read the SPDX expression, and the LICENSE file is what travels in the
artifact. They are compared by family (GPL, BSD, MIT, ...): the section's vocabulary is the
kernel's (`Dual BSD/GPL`), coarser than SPDX's, and libbpf-tools pair a GPL-2.0 or an
LGPL-2.1-or-BSD-2-Clause source with a `Dual BSD/GPL` object. So a section or a LICENSE file
agrees with the SPDX expression when they share a family: an MIT package whose object says
`GPL`, or a GPL one whose LICENSE is the MIT text, does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from license_expression import ExpressionError, get_spdx_licensing

# SPDX identifiers by the family they belong to, longest prefix first.
_FAMILIES: Final = (
    ("LGPL-", "GPL"),
    ("GPL-", "GPL"),
    ("BSD-", "BSD"),
    ("0BSD", "BSD"),
    ("MIT", "MIT"),
    ("MPL-", "MPL"),
    ("Apache-", "Apache"),
)
# The strings the kernel knows in a license section (license_is_gpl_compatible()).
_SECTION_FAMILIES: Final = {
    "GPL": frozenset({"GPL"}),
    "GPL v2": frozenset({"GPL"}),
    "GPL and additional rights": frozenset({"GPL"}),
    "Dual BSD/GPL": frozenset({"BSD", "GPL"}),
    "Dual MIT/GPL": frozenset({"MIT", "GPL"}),
    "Dual MPL/GPL": frozenset({"MPL", "GPL"}),
}
# How each family's license text opens or reads, as license files carry them.
_TEXT_MARKERS: Final = (
    ("GPL", re.compile(r"GNU (LESSER |LIBRARY )?GENERAL PUBLIC LICENSE", re.IGNORECASE)),
    ("BSD", re.compile(r"Redistribution and use in source and binary forms", re.IGNORECASE)),
    ("MIT", re.compile(r"Permission is hereby granted, free of charge", re.IGNORECASE)),
    ("MPL", re.compile(r"Mozilla Public License", re.IGNORECASE)),
    ("Apache", re.compile(r"Apache License", re.IGNORECASE)),
)


def spdx_ids(expression: str) -> list[str]:
    """The identifiers of an SPDX expression, current spellings (none if it does not parse:
    `validate` reports that)."""
    try:
        return list(get_spdx_licensing().license_keys(expression))
    except ExpressionError:
        return []


def normalized(expression: str) -> str | None:
    """`expression` with current SPDX spellings (GPL-2.0 -> GPL-2.0-only), None if invalid."""
    try:
        return str(get_spdx_licensing().parse(expression, validate=True, strict=True).render())
    except ExpressionError:
        return None


def _family(spdx_id: str) -> str | None:
    return next((family for prefix, family in _FAMILIES if spdx_id.startswith(prefix)), None)


def spdx_families(expression: str) -> frozenset[str]:
    """The families an SPDX expression offers."""
    return frozenset(f for f in map(_family, spdx_ids(expression)) if f is not None)


def section_families(section: str) -> frozenset[str]:
    """The families an object's license section names (an SPDX id is read as one too)."""
    return _SECTION_FAMILIES.get(section) or spdx_families(section)


def text_families(text: str) -> frozenset[str]:
    """The families whose license text a LICENSE file holds."""
    return frozenset(family for family, marker in _TEXT_MARKERS if marker.search(text))


def license_mismatches(
    expression: str, sections: dict[str, str | None], license_text: str | None
) -> Iterator[str]:
    """Each way the objects' sections (file -> section) or the LICENSE text contradict the
    SPDX `expression`, one sentence each."""
    offered = spdx_families(expression)
    if not offered:
        return  # a license outside the families above: nothing to compare with
    for file, section in sections.items():
        if section is None:
            continue
        named = section_families(section)
        if named and not named & offered:
            yield (
                f"{file}: its license section says {section!r}, which the package's license "
                f"{expression!r} does not offer"
            )
    if license_text is not None:
        found = text_families(license_text)
        if found and not found & offered:
            yield (
                f"LICENSE holds the text of a {'/'.join(sorted(found))} license, which the "
                f"package's license {expression!r} does not name"
            )


def spdx_for_section(section: str | None) -> str | None:
    """The SPDX expression `init --from` writes for an object's license section."""
    return {
        "GPL": "GPL-2.0-only",
        "GPL v2": "GPL-2.0-only",
        "Dual BSD/GPL": "BSD-2-Clause OR GPL-2.0-only",
        "Dual MIT/GPL": "MIT OR GPL-2.0-only",
        "Dual MPL/GPL": "MPL-2.0 OR GPL-2.0-only",
    }.get(section or "")
