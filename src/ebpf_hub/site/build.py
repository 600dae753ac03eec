"""`build_site`: the whole catalogue, pages and JSON index, replaced in one step.

Everything is built beside the output directory and swapped in only when complete, so a
server reading OUT never sees half a site, and a failed build leaves the previous one in place.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.forked import running_beside
from ebpf_hub.fsutil import replace_directory
from ebpf_hub.index.config import HubConfig
from ebpf_hub.index.jsonindex import API_DIR, Digests, build_index, write_index
from ebpf_hub.index.trust import hub_trust
from ebpf_hub.index.validate import validate
from ebpf_hub.model.matrix import Matrices
from ebpf_hub.model.package import Package
from ebpf_hub.site.catalogue import category_members, recent_names
from ebpf_hub.site.engine import run_mkdocs
from ebpf_hub.site.generated import SiteData
from ebpf_hub.site.stage import stage_docs
from ebpf_hub.site.suggest import write_names

MKDOCS_FILE = Path("mkdocs.yml")
TUF_DIR = "tuf"  # api/v1/tuf: the index's TUF metadata (ebpf_hub.trust)
# Signs a new api/v1 given the metadata directory of the publication it replaces.
IndexSigner = Callable[[Path, Path], object]
STAGING_DIR = Path("build")


def build_site(
    config: HubConfig,
    out: Path,
    *,
    command_line: argparse.ArgumentParser,
    digests: Digests | None = None,
    registry: str | None = None,
    packages: list[Package] | None = None,
    sign_index: IndexSigner | None = None,
    matrices: Matrices | None = None,
) -> None:
    """Build the catalogue of `config`'s hub into `out`, with api/v1 beside the pages.

    `command_line` is the parser the CLI reference documents (`<!-- hub:cli -->`); `packages`
    defaults to the whole index, validated; `registry` to hub.yaml's; `digests` (the publish
    ledger) adds digests to versions and pins `oras pull` commands; `sign_index` signs the
    new api/v1 (TUF) before it replaces the old, whose metadata it continues; `matrices`
    (the matrix ledger's summary) adds each tested version's kernel verdicts to both.
    """
    if packages is None:
        packages = _valid_packages(config)
    ordered = sorted(packages, key=lambda p: p.name)
    data = SiteData(
        config=config,
        packages=ordered,
        registry=registry or config.registry,
        members=category_members(ordered, config.categories),
        command_line=command_line,
        index_signed=sign_index is not None,
    )
    ledger = digests or {}
    (config.root / STAGING_DIR).mkdir(parents=True, exist_ok=True)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=config.root / STAGING_DIR, prefix="site-docs."))
    built = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new."))
    # MkDocs empties its output directory first: the JSON index is written beside it.
    api = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.api."))

    try:
        # Each version's evidence, shown by both its page and the JSON index: made once.
        trusts = hub_trust(
            data.packages, data.registry, ledger, matrices, index_signed=data.index_signed
        )

        def write_api() -> None:
            files = build_index(
                data.packages,
                data.registry,
                ledger,
                matrices,
                index_signed=data.index_signed,
                trusts=trusts,
            )
            write_index(files, api)

        pages = stage_docs(data, ledger, staging, matrices, trusts)
        # The JSON index needs nothing MkDocs makes: a child process writes it meanwhile.
        with running_beside(write_api, "writing the JSON index"):
            run_mkdocs(
                config.root / MKDOCS_FILE,
                docs_dir=staging,
                site_dir=built,
                site_url=config.site_url,
                categories_allowed=config.categories,
                pages=pages,
                extra={"hub_recent": recent_names(data.packages)},
            )
        replace_directory(api / API_DIR, built / API_DIR)
        write_names(data.packages, built)
        if sign_index is not None:
            sign_index(built / API_DIR, out / API_DIR / TUF_DIR)
        built.chmod(0o755)
        replace_directory(built, out)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(api, ignore_errors=True)


def _valid_packages(config: HubConfig) -> list[Package]:
    report = validate(config)
    if not report.ok:
        raise HubError(
            f"the index has {len(report.problems)} problem(s), first {report.problems[0]}; "
            "fix them (ebpf-hub validate) before building the site"
        )
    return report.packages
