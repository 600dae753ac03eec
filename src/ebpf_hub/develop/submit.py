"""`ebpf-hub submit DIR`: the index entry for a package directory, ready for a pull request.

The entry is the manifest with its newest version pinned to the commit DIR is at and its
source set to the remote the hub fetches from; with `--local`, a dry run against a hub of
one's own, to the sources copied into the hub and their tree hash. An entry already in the
hub keeps every version it lists (published versions never change) and gains the new one.
The file is checked by the hub's own validator, the one its CI runs on the pull request,
and text a template wrote for the author to replace is refused; if anything fails, the hub
is left as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ebpf_hub.develop.gitsource import git_source, is_pushed
from ebpf_hub.develop.placeholders import placeholder_fields, readme_is_template
from ebpf_hub.develop.project import Project
from ebpf_hub.develop.scaffold import PLACEHOLDER_AUTHOR
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file, write_atomic
from ebpf_hub.index.config import HubConfig, load_config
from ebpf_hub.index.document import DocumentError, load_document
from ebpf_hub.index.problems import Problem
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.index.validate import validate
from ebpf_hub.model.package import Package

# Where a hub keeps the sources of the packages that live in it (`source.path`).
LOCAL_SOURCES = "sources"


@dataclass(frozen=True)
class Submission:
    """The entry written: its file, the version added and what pins it (commit or tree)."""

    path: Path
    version: str
    pin: str
    warnings: list[str] = field(default_factory=list)


class _EntryDumper(yaml.SafeDumper):
    """The look of the hub's hand-written files: lists of words inline, long text as blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    inline = all(isinstance(item, (str, int, float, bool)) for item in value)
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


def placeholder_problems(project: Project) -> list[Problem]:
    """What the author left as a template (or `init --from`) wrote it: no pull request should
    reach the hub saying that a signal tracer traces exec() calls."""
    data = project.document.data
    problems = [
        project.document.problem(
            (field,),
            "still the template's text",
            f"write what {project.name} shows, in your words",
        )
        for field in placeholder_fields(str(data["summary"]), str(data["description"]))
    ]
    problems.extend(
        project.document.problem(
            ("maintainers", index, "name"),
            f"still the placeholder {PLACEHOLDER_AUTHOR!r}",
            "write your name (and email) as the package's maintainer",
        )
        for index, person in enumerate(data.get("maintainers") or [])
        if isinstance(person, dict) and person.get("name") == PLACEHOLDER_AUTHOR
    )
    readme = project.directory / "README.md"
    if is_regular_file(readme) and readme_is_template(readme.read_text("utf-8", "replace")):
        problems.append(
            Problem(
                str(readme),
                1,
                "README.md",
                "still describes the template's program",
                f"say what {project.name} does, how to run it and how to read its output",
            )
        )
    return problems


@dataclass(frozen=True)
class _Restore:
    """How to put the hub back as it was if the entry written for a submission is refused."""

    entry: Path
    previous_entry: bytes | None
    sources: Path | None = None  # the sources a local submission copied, None for git
    previous_sources: Path | None = None  # where the ones they replaced wait

    def undo(self) -> None:
        if self.previous_entry is None:
            self.entry.unlink(missing_ok=True)
        else:
            write_atomic(self.entry, self.previous_entry)
        if self.sources is not None:
            shutil.rmtree(self.sources, ignore_errors=True)
            if self.previous_sources is not None:
                self.previous_sources.replace(self.sources)
                self.previous_sources.parent.rmdir()

    def keep(self) -> None:
        if self.previous_sources is not None:
            shutil.rmtree(self.previous_sources.parent)


def _local_sources(
    project: Project, config: HubConfig, package: Package
) -> tuple[Path, Path | None]:
    """Copy what the package builds from into the hub's sources/NAME (`sourcefiles`); the
    directory's previous content, if any, is moved aside (returned) until the entry passes."""
    from ebpf_hub.build.compile import program_sources
    from ebpf_hub.build.toolchain import toolchain
    from ebpf_hub.develop.sourcefiles import source_files

    directory = project.directory
    files = source_files(toolchain(), directory, program_sources(directory), package.compile)
    sources = config.root / LOCAL_SOURCES / project.name
    sources.parent.mkdir(parents=True, exist_ok=True)
    if sources.is_symlink():
        raise HubError(f"{sources} is a link; remove it (rm {sources}) and submit again")
    previous = None
    if sources.exists():
        aside = Path(tempfile.mkdtemp(dir=sources.parent, prefix=f".{project.name}.old."))
        previous = aside / project.name
        sources.replace(previous)
    for relative in files:
        target = sources / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / relative, target, follow_symlinks=False)
        shutil.copymode(directory / relative, target, follow_symlinks=False)
    return sources, previous


def submit(
    project: Project, hub_root: Path, remote: str = "origin", *, local: bool = False
) -> Submission:
    """Write and validate `hub_root/index/packages/<name>.yaml` for `project`.

    `local` is the dry run against a hub of one's own (`scripts/up`): the sources are copied
    into the hub's `sources/NAME` and pinned by their tree hash, as the hub's own packages
    are, so nothing needs to be committed or pushed, and a version it submitted before is
    replaced.
    """
    config = load_config(hub_root)
    path = config.packages_dir / f"{project.name}.yaml"
    published = _published_versions(path)
    restore = _Restore(path, path.read_bytes() if path.exists() else None)
    warnings = []
    if local:
        entry = project.entry(None)
        package, _ = project.identity(None)
        sources, previous = _local_sources(project, config, package)
        restore = replace(restore, sources=sources, previous_sources=previous)
        entry["source"] = {"path": sources.relative_to(config.root).as_posix()}
        entry["versions"][-1]["tree"] = tree_hash(sources)
        pin = entry["versions"][-1]["tree"]
        # a version an earlier dry run wrote is replaced; one pinned to a commit is published
        published = [v for v in published if "commit" in v or v.get("version") != _newest(entry)]
    else:
        git_pin = git_source(project.directory, remote)
        entry = project.entry(git_pin)
        pin = git_pin.commit
        if not is_pushed(project.directory, git_pin.commit, remote):
            warnings.append(
                f"commit {git_pin.commit[:12]} is on no branch of {remote} (as last fetched); "
                f"push it before opening the pull request, the hub fetches it from {git_pin.url}"
            )
    [new] = entry["versions"]
    if any(v.get("version") == new["version"] for v in published):
        restore.undo()
        raise HubError(
            f"{project.name} {new['version']} is already in the hub; add a new version at "
            f"the end of versions: in {project.manifest}"
        )
    entry["versions"] = [*published, new]
    write_atomic(path, dump_entry(entry))
    problems = [*validate(config, files=[path]).problems, *placeholder_problems(project)]
    if problems:
        restore.undo()
        listing = "\n".join(str(problem) for problem in problems)
        raise HubError(
            f"{listing}\n{path.name} was not written: {len(problems)} problem(s); fix "
            f"them in {project.directory}"
        )
    restore.keep()
    return Submission(path, new["version"], pin, warnings)


def _newest(entry: dict[str, Any]) -> str:
    return str(entry["versions"][-1]["version"])
