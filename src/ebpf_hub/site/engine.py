"""Running MkDocs in-process on a staged docs directory, its problems turned into one HubError.

`mkdocs.yml` keeps the theme, plugins and navigation; what depends on the hub (docs and output
directories, site URL, the category allow-list) is set here, so the allow-list has one home:
index/hub.yaml. The site's own plugins are added here too: the generated pages, the categories
(the allow-list enforced on every page, with their chips) and the Content-Security-Policy; they
only make sense with pages staged by this package.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException

from ebpf_hub.errors import HubError
from ebpf_hub.site import categories, csp
from ebpf_hub.site.pages import PLUGIN_NAME, GeneratedPages, GeneratedPagesPlugin

# Material's tags plugin obeys a listing directive anywhere in a page's Markdown, contributors'
# text included; the site's categories are its own (`categories`).
TAGS_PLUGINS = frozenset({"tags", "material/tags"})


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings, so a failed build names its first cause instead of a count."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))

    def first_cause(self) -> str:
        """The first problem, with the context lines (ending in ':') MkDocs logs before it."""
        count = next(
            (i for i, message in enumerate(self.messages, 1) if not message.endswith(":")),
            len(self.messages),
        )
        more = len(self.messages) - count
        return " ".join(self.messages[:count]) + (f" (and {more} more)" if more else "")


def run_mkdocs(
    config_file: Path,
    *,
    docs_dir: Path,
    site_dir: Path,
    site_url: str,
    categories_allowed: Iterable[str],
    pages: GeneratedPages,
    extra: Mapping[str, object],
) -> None:
    """Build `docs_dir`, with the generated `pages` added, into `site_dir` with
    `config_file`'s theme, plugins and navigation; `extra` joins `extra` of mkdocs.yml, which
    the theme's templates read (the 404 page lists packages from it)."""
    logger = logging.getLogger("mkdocs")
    collected = _Collect()
    logger.addHandler(collected)
    try:
        config = load_config(
            str(config_file), docs_dir=str(docs_dir), site_dir=str(site_dir), site_url=site_url
        )
        config.extra.update(extra)
        tagging = TAGS_PLUGINS.intersection(config.plugins)
        if tagging:
            raise HubError(
                f"{config_file.name}: the {min(tagging)} plugin is not used by the site build, "
                "which shows categories itself, from index/hub.yaml",
                hint=f"remove {min(tagging)} from the plugins of {config_file.name}",
            )
        config.plugins[PLUGIN_NAME] = GeneratedPagesPlugin(pages)
        config.plugins[categories.PLUGIN_NAME] = categories.CategoriesPlugin(categories_allowed)
        config.plugins[csp.PLUGIN_NAME] = csp.ContentSecurityPolicyPlugin()
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    except Abort:
        # The logged problems are the causes; the exception only counts them.
        raise HubError(f"mkdocs build failed: {collected.first_cause()}") from None
    except MkDocsException as exc:
        raise HubError(f"mkdocs build failed: {' '.join(str(exc).split())}") from None
    finally:
        logger.removeHandler(collected)
