"""Generated blocks inside hand-written pages: `<!-- hub:NAME ARGS -->` markers.

Hand-written pages keep the prose; a marker is replaced at build time by what only the index,
the schemas or the CLI know (counts, tables, help text). Outside a site build the markers are
plain HTML comments, so `mkdocs build` on `site/` alone still works. An unknown marker fails
the build rather than leaving a hole in a page.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HubConfig
from ebpf_hub.model.package import Package
from ebpf_hub.site import catalogue
from ebpf_hub.site.clidoc import cli_reference
from ebpf_hub.site.markup import code
from ebpf_hub.site.schemadoc import schema_reference

MARKER = re.compile(r"<!--\s*hub:([a-z-]+)((?:\s+[^\s>]+)*)\s*-->")
SCHEMA_DIR = Path("schema")


@dataclass(frozen=True)
class SiteData:
    """What generated blocks may show: the hub, its packages and where they are published,
    and the command line the CLI reference documents (passed in by the CLI, which imports the
    site: importing it here would close a cycle)."""

    config: HubConfig
    packages: Sequence[Package]
    registry: str
    members: Mapping[str, Sequence[Package]]  # each category's packages (catalogue)
    command_line: argparse.ArgumentParser
    index_signed: bool = False  # api/v1 will be signed with TUF (`site build --tuf-roots`)

    @property
    def counts(self) -> dict[str, int]:
        """How many packages each category holds."""
        return {category: len(members) for category, members in self.members.items()}


Block = Callable[[SiteData, str, list[str]], str]


def expand(text: str, page_src: str, data: SiteData) -> str:
    """`text` of the page `page_src` (a docs path) with every marker replaced."""

    def replace(match: re.Match[str]) -> str:
        name, args = match.group(1), match.group(2).split()
        if name not in _BLOCKS:
            raise HubError(
                f"site/{page_src}: unknown generated block <!-- hub:{name} -->; "
                f"use one of {', '.join(sorted(_BLOCKS))}"
            )
        params, block = _BLOCKS[name]
        if len(args) != len(params):
            usage = " ".join((f"hub:{name}", *params))
            raise HubError(
                f"site/{page_src}: write <!-- {usage} -->, got <!-- hub:{name}{match.group(2)} -->"
            )
        return block(data, page_src, args)

    return MARKER.sub(replace, text)


def _schema(data: SiteData, page_src: str, args: list[str]) -> str:
    """The reference tables of schema/FILE."""
    name = args[0]
    if "/" in name or not name.endswith(".schema.json"):
        raise HubError(f"site/{page_src}: {name!r} is not a file of {SCHEMA_DIR}/*.schema.json")
    try:
        schema = json.loads((data.config.root / SCHEMA_DIR / name).read_bytes())
    except (OSError, ValueError) as exc:
        raise HubError(f"site/{page_src}: cannot read {SCHEMA_DIR / name} ({exc})") from None
    return schema_reference(schema, anchor_prefix=name.removesuffix(".schema.json"))


def _cli(data: SiteData, page_src: str, args: list[str]) -> str:
    """The reference of every command, from the parser itself."""
    return cli_reference(data.command_line)


# Marker name -> (the arguments it takes, what replaces it).
_BLOCKS: dict[str, tuple[tuple[str, ...], Block]] = {
    "package-count": (
        (),
        lambda data, page, args: catalogue.packages_phrase(len(data.packages)),
    ),
    "registry": ((), lambda data, page, args: data.registry),
    "categories": (
        (),
        lambda data, page, args: catalogue.category_cards(
            page, data.config.categories, data.counts
        ),
    ),
    "category-table": (
        (),
        lambda data, page, args: catalogue.category_table(
            page, data.config.categories, data.counts
        ),
    ),
    "category-names": (
        (),
        lambda data, page, args: ", ".join(code(name) for name in data.config.categories),
    ),
    "recent": (
        (),
        lambda data, page, args: catalogue.recent_packages(page, data.packages),
    ),
    "schema": (("FILE.schema.json",), _schema),
    "cli": ((), _cli),
}
