"""`ebpf-hub submit DIR`: the index entry for a package directory, ready for a pull request.

The entry is the manifest with its newest version pinned to the commit DIR is at and its
source set to the remote the hub fetches from. An entry already in the hub keeps every version
it lists (published versions never change) and gains the new one. The file is checked by the
hub's own validator, the one its CI runs on the pull request; if it fails, the hub is left as
it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ebpf_hub.develop.gitsource import git_source, is_pushed
from ebpf_hub.develop.project import Project
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic
from ebpf_hub.index.config import load_config
from ebpf_hub.index.document import DocumentError, load_document
from ebpf_hub.index.validate import validate


@dataclass(frozen=True)
class Submission:
    path: Path
    version: str
    commit: str
    warnings: list[str] = field(default_factory=list)


class _EntryDumper(yaml.SafeDumper):
    """The look of the hub's hand-written files: lists of words inline, long text as blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    inline = all(isinstance(item, str | int | float | bool) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=inline)


_EntryDumper.add_representer(str, _represent_str)
_EntryDumper.add_representer(list, _represent_list)


def dump_entry(entry: dict[str, Any]) -> bytes:
    """An index entry as YAML, fields in the manifest's order."""
    text = yaml.dump(entry, Dumper=_EntryDumper, sort_keys=False, allow_unicode=True, width=100)
    return text.encode()


def _published_versions(path: Path) -> list[dict[str, Any]]:
    """The versions the hub's current entry lists (none for a new package)."""
    if not path.exists():
        return []
    try:
        versions = load_document(path).data.get("versions", [])
    except DocumentError as exc:
        raise HubError(f"cannot read the hub's entry: {exc.problem}") from None
    return list(versions) if isinstance(versions, list) else []


def submit(project: Project, hub_root: Path, remote: str = "origin") -> Submission:
    """Write and validate `hub_root/index/packages/<name>.yaml` for `project`."""
    config = load_config(hub_root)
    pin = git_source(project.directory, remote)
    entry = project.entry(pin)
    path = config.packages_dir / f"{project.name}.yaml"
    published = _published_versions(path)
    [new] = entry["versions"]
    if any(v.get("version") == new["version"] for v in published):
        raise HubError(
            f"{project.name} {new['version']} is already in the hub; add a new version at "
            f"the end of versions: in {project.directory / 'ebpf-hub.yaml'}"
        )
    entry["versions"] = [*published, new]
    previous = path.read_bytes() if path.exists() else None
    write_atomic(path, dump_entry(entry))
    report = validate(config, files=[path])
    if not report.ok:
        if previous is None:
            path.unlink()
        else:
            write_atomic(path, previous)
        listing = "\n".join(str(problem) for problem in report.problems)
        raise HubError(
            f"{listing}\n{path.name} was not written: {len(report.problems)} problem(s); fix "
            f"them in {project.directory / 'ebpf-hub.yaml'}"
        )
    warnings = []
    if not is_pushed(project.directory, pin.commit, remote):
        warnings.append(
            f"commit {pin.commit[:12]} is on no branch of {remote} (as last fetched); push it "
            f"before opening the pull request, the hub fetches it from {pin.url}"
        )
    return Submission(path, new["version"], pin.commit, warnings)
