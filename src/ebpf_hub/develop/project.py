"""A package directory: its manifest `ebpf-hub.yaml`, checked, and the version it builds.

The manifest has the schema of an index entry (index/packages/<name>.yaml) so that `submit`
can turn it into one; only what git knows is left out: its versions carry no commit, and its
`source` is filled from the repository's remote (`gitsource`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.develop.gitsource import GitSource
from ebpf_hub.errors import HubError
from ebpf_hub.index.checks import mode_problems
from ebpf_hub.index.document import Document, DocumentError, load_document
from ebpf_hub.index.schema import schema_problems
from ebpf_hub.model.package import Package, Version

MANIFEST = "ebpf-hub.yaml"


def is_package_dir(path: Path) -> bool:
    """Whether `path` is a package directory (what `build`, `test` and `publish` accept)."""
    return (path / MANIFEST).is_file()


@dataclass(frozen=True)
class Project:
    """A package directory and its manifest, which passed the package schema."""

    directory: Path
    document: Document

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST

    @property
    def name(self) -> str:
        return str(self.document.data["name"])

    def entry(self, pin: GitSource | None) -> dict[str, Any]:
        """The manifest as an index entry of its newest version, pinned to `pin` if given.

        Without a pin (uncommitted sources) the source stays as the manifest says and the
        version pins nothing: good for `build` and `test`, refused by `publish` and `submit`.
        """
        data = copy.deepcopy(self.document.data)
        newest = data["versions"][-1]
        if pin is not None:
            data["source"] = pin.source()
            newest["commit"] = pin.commit
        data["versions"] = [newest]
        return data

    def identity(self, pin: GitSource | None) -> tuple[Package, Version]:
        """The package and the version a build of this directory produces."""
        package = Package.from_json(self.entry(pin))
        return package, package.versions[-1]


def load_project(directory: Path) -> Project:
    """Read and schema-check `directory/ebpf-hub.yaml`; every problem is reported at once."""
    path = directory / MANIFEST
    if not path.is_file():
        raise HubError(
            f"{directory}: no {MANIFEST} here; create a package with "
            "ebpf-hub init DIR --template KIND (ebpf-hub init --list shows the kinds)"
        )
    try:
        document = load_document(path, str(path))
    except DocumentError as exc:
        raise HubError(str(exc.problem)) from None
    problems = schema_problems(document)
    if not problems:  # what the schema cannot say: modes name programs, one is the default
        problems = list(mode_problems(document, Package.from_json(document.data)))
    if problems:
        listing = "\n".join(str(problem) for problem in problems)
        raise HubError(f"{listing}\n{path}: {len(problems)} problem(s); fix them first")
    return Project(directory.resolve(), document)
