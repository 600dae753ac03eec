"""`ebpf-hub init DIR --from TOOLDIR`: a package directory from eBPF C written elsewhere.

A libbpf-tools-style tool (a `.bpf.c`, its shared `.h`, helper headers) becomes a package
without an edit to its C: the files it needs are copied (`sourcefiles`), the copy is built
with the hub's builder, and the manifest is written from what the objects hold, so that it is
true by construction: every program with its section, the hook kinds, the dangerous calls,
the capabilities the hooks need, the license the object carries, and `output.events` when an
`events` map's records were found. Parameters and the event type need no manifest field: the
runner reads them from the object. What only the author knows (summary, description) is
written as a placeholder that `submit` refuses. Nothing is written unless all of it works.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.bpfobj.capabilities import capabilities
from ebpf_hub.bpfobj.eventtype import event_map
from ebpf_hub.bpfobj.inspect import ObjectInfo, inspect_object
from ebpf_hub.bpfobj.kinds import hook_kind
from ebpf_hub.build.compile import CompileError, compile_objects, program_sources
from ebpf_hub.build.licensing import normalized, spdx_for_section
from ebpf_hub.build.package import build_sources
from ebpf_hub.build.toolchain import TARGET_ARCH, Toolchain, toolchain, toolchain_for
from ebpf_hub.develop.placeholders import IMPORTED_DESCRIPTION, IMPORTED_SUMMARY
from ebpf_hub.develop.project import MANIFEST, load_project
from ebpf_hub.develop.scaffold import PLACEHOLDER_AUTHOR, TEMPLATES, check_name, check_target
from ebpf_hub.develop.sourcefiles import source_files
from ebpf_hub.develop.submit import dump_entry
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic
from ebpf_hub.gitutil import git_text
from ebpf_hub.model.package import CompileSettings
from ebpf_hub.safetext import escape

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # the schema's maintainers[].email
_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*(?P<expression>.+?)\s*(?:\*/)?\s*$", re.M)
# Kernels that first had what an object uses, newest wins: BTF-typed tracepoints, ring buffers.
_KERNEL_BASE = "5.4"
_KERNEL_FOR_SECTION = {"tp_btf": "5.5"}
_KERNEL_FOR_MAP = {"ringbuf": "5.8"}
_NETWORK_CATEGORY = "networking"
_TRACING_CATEGORY = "observability"
_FIRST_VERSION = "0.1.0"
# The GPL-2.0 text `init` puts in a new package, for an import whose directory has no LICENSE.
_GPL_TEXT = TEMPLATES / "common" / "LICENSE"
_HEADER = (
    "# The package manifest, written by `ebpf-hub init --from {origin}` from the compiled\n"
    "# object: programs, hooks, calls and capabilities are what the code does. Replace the\n"
    "# summary and description; pick the categories (index/hub.yaml lists them).\n"
)
README = """# {name}

{summary}

Imported with `ebpf-hub init --from` from `{origin}`: the eBPF C is as it was written there.

| file | what it is |
| --- | --- |
{files}
| `ebpf-hub.yaml` | the manifest, written from the compiled object |

```sh
ebpf-hub build .          # compile and check the object against ebpf-hub.yaml
sudo ebpf-hub test .      # load, attach, run ./trigger if there is one, see output
```
"""


@dataclass(frozen=True)
class Imported:
    """What `import_package` wrote, and what the author should look at next."""

    directory: Path
    files: tuple[Path, ...]
    notes: tuple[str, ...]


def _license(origin: Path, programs: list[Path], infos: list[tuple[str, ObjectInfo]]) -> str:
    """The SPDX expression of the first program's SPDX line, else of the object's section."""
    match = _SPDX_LINE.search(programs[0].read_text("utf-8", "replace"))
    if match is not None:
        spdx = normalized(match["expression"].strip())
        if spdx is not None:
            return spdx
    section = next((info.license for _, info in infos if info.license), None)
    spdx = spdx_for_section(section)
    if spdx is None:
        raise HubError(
            f"{programs[0]}: no SPDX-License-Identifier line and no license section eBPF Hub "
            f"can name ({section!r})",
            hint=f"add `// SPDX-License-Identifier: GPL-2.0-only` (or the right one) to "
            f"{programs[0].name} in {origin}",
        )
    return spdx


def _kernel(infos: list[tuple[str, ObjectInfo]]) -> str:
    """The oldest kernel that has every hook kind and map type the objects use."""
    versions = [_KERNEL_BASE]
    for _, info in infos:
        versions += [_KERNEL_FOR_SECTION.get(p.kind or "", _KERNEL_BASE) for p in info.programs]
        versions += [_KERNEL_FOR_MAP.get(m.type, _KERNEL_BASE) for m in info.maps]
    return max(versions, key=lambda v: tuple(map(int, v.split("."))))


def manifest(
    name: str,
    origin: Path,
    license_id: str,
    architectures: list[str],
    infos: list[tuple[str, ObjectInfo]],
    *,
    settings: CompileSettings,
    maintainer: dict[str, str],
) -> dict[str, Any]:
    """The manifest of the objects `infos`, in the order of the templates' manifests."""
    programs = [p for _, info in infos for p in info.programs]
    kinds = [hook_kind(p.section) for p in programs]
    unknown = [p.section for p, kind in zip(programs, kinds) if kind is None]
    if unknown:
        raise HubError(
            f"{origin}: section {unknown[0]} is not a kind of program a package may ship",
            hint="eBPF Hub packages attach tracing, network, cgroup and LSM programs",
        )
    attach = sorted({kind.name for kind in kinds if kind is not None})
    drops = any(kind.drops_packets for kind in kinds if kind is not None)
    found = capabilities(info for _, info in infos)
    permissions: dict[str, Any] = {"attach": attach}
    for permission in ("helpers", "kfuncs"):
        names = sorted({d.name for d in found.dangers if d.permission == permission})
        if names:
            permissions[permission] = names
    if found.reads_user_memory:
        permissions["reads_user_memory"] = True
    if drops:
        permissions["drops_packets"] = True
    caps = ["CAP_BPF", *(["CAP_NET_ADMIN"] if drops else []), "CAP_PERFMON"]
    data: dict[str, Any] = {
        "name": name,
        "summary": IMPORTED_SUMMARY.format(name=name),
        "description": IMPORTED_DESCRIPTION.format(name=name),
        "license": license_id,
        "maintainers": [maintainer],
        "categories": [_NETWORK_CATEGORY if drops else _TRACING_CATEGORY],
        "source": {"git": f"https://github.com/OWNER/{name}"},
        "requires": {
            "kernel": _kernel(infos),
            "btf": True,
            "architectures": architectures,
            "capabilities": caps,
        },
        "programs": [{"name": p.name, "section": p.section} for p in programs],
        "permissions": permissions,
    }
    if any(event_map(info.maps) for _, info in infos):
        data["output"] = {"events": True}
    if settings.to_json():
        data["compile"] = settings.to_json()
    data["versions"] = [
        {
            "version": _FIRST_VERSION,
            "created": dt.datetime.now(dt.timezone.utc).date().isoformat(),
            "changes": f"First release, imported from {origin.name}.",
        }
    ]
    return data


def _select(origin: Path, program: str | None) -> list[Path]:
    """The programs to import: every `*.bpf.c` of `origin`, or the one `program` names."""
    found = program_sources(origin)
    if program is None:
        return found
    wanted = [p for p in found if p.name in (program, f"{program}.bpf.c")]
    if not wanted:
        names = ", ".join(p.name.removesuffix(".bpf.c") for p in found)
        raise HubError(f"{origin}: no program {program!r}; one of: {names}")
    return wanted


def _copy(origin: Path, files: list[Path], staging: Path) -> None:
    for relative in files:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin / relative, target, follow_symlinks=False)
        shutil.copymode(origin / relative, target, follow_symlinks=False)


def _readme(name: str, origin: Path, files: list[Path]) -> str:
    rows = "\n".join(f"| `{f.as_posix()}` | from {origin.name} |" for f in files)
    return README.format(
        name=name, summary=IMPORTED_SUMMARY.format(name=name), origin=origin, files=rows
    )


def _objects(
    tools: Toolchain, staging: Path, label: str, settings: CompileSettings
) -> list[tuple[str, ObjectInfo]]:
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-import-") as out:
        objects = compile_objects(tools, staging, Path(out), label, settings)
        return [(path.name, inspect_object(path)) for path in objects]


def _build(
    tools: Toolchain, staging: Path, label: str
) -> tuple[list[tuple[str, ObjectInfo]], CompileSettings]:
    """The objects of `staging`, and the settings they build with: a tool written without
    -Werror (libbpf-tools builds with -Wall alone) may have warnings, which the package then
    keeps as warnings (`compile.werror: false`) rather than refusing the import; an error
    that is not a warning fails the second build too, and is shown: the compiler's lines as
    it wrote them (each escaped), then one error line."""
    strict = CompileSettings()
    try:
        return _objects(tools, staging, label, strict), strict
    except CompileError:
        lenient = CompileSettings(werror_field=False)
        try:
            return _objects(tools, staging, label, lenient), lenient
        except CompileError as exc:
            *diagnostics, summary = exc.message.splitlines() or [""]
            for line in diagnostics:
                print(escape(line), file=sys.stderr)
            raise HubError(summary, hint=exc.hint) from None


def _architectures(
    host: Toolchain, staging: Path, label: str, settings: CompileSettings
) -> tuple[list[str], list[str]]:
    """The architectures the package builds for (`requires.architectures`): the host's, and
    each other one the hub's builder targets (build/platforms.py) that the sources compile
    for; and a note for each that does not, with the compiler's reason."""
    found, notes = [host.arch], []
    for arch in sorted(set(TARGET_ARCH) - {host.arch}):
        try:
            with tempfile.TemporaryDirectory(prefix="ebpf-hub-import-") as out:
                compile_objects(
                    toolchain_for(arch), staging, Path(out), f"{label} ({arch})", settings
                )
        except HubError as exc:
            lines = exc.message.splitlines() or [str(exc)]
            reason = next((line for line in lines if "error:" in line), lines[-1])
            notes.append(f"not built for {arch} ({reason}): requires.architectures leaves it out")
        else:
            found.append(arch)
    return found, notes


def _maintainer(origin: Path) -> tuple[dict[str, str], str | None]:
    """The maintainer entry from git's `user.name`/`user.email` where the tool's sources
    are, or the placeholder `submit` refuses, with a note saying so."""
    name, email = (_git_config(origin, key) for key in ("user.name", "user.email"))
    if not name:
        return {"name": PLACEHOLDER_AUTHOR}, (
            f"no git user.name in {origin}: the maintainer is the placeholder "
            f"{PLACEHOLDER_AUTHOR!r}, which ebpf-hub submit refuses; write yours in {MANIFEST}"
        )
    entry = {"name": name[:100]}
    if _EMAIL.fullmatch(email) and len(email) <= 200:
        entry["email"] = email
    return entry, None


def _git_config(directory: Path, key: str) -> str:
    """A git setting as seen from `directory` (its repository's, else the user's), with
    control characters and quotes removed: it goes into YAML and the catalogue."""
    try:
        value = git_text(directory, "config", "--get", key)
    except HubError:
        return ""
    return re.sub(r'["\\\x00-\x1f\x7f]', "", value).strip()


def _place(staging: Path, directory: Path) -> None:
    """Move the finished package into `directory`, which is absent or empty but for `.git`."""
    if not directory.exists():
        staging.rename(directory)
        return
    for entry in staging.iterdir():
        entry.rename(directory / entry.name)


def import_package(
    origin: Path, directory: Path, name: str | None = None, program: str | None = None
) -> Imported:
    """Make `directory` a package of the eBPF C in `origin` (all its programs, or `program`)."""
    if not origin.is_dir():
        raise HubError(f"{origin} is not a directory; pass the directory of the tool's .bpf.c")
    origin = origin.resolve()
    check_target(directory)
    name = check_name(name or directory.resolve().name)
    programs = _select(origin, program)
    tools = toolchain()
    files = source_files(tools, origin, programs, CompileSettings())
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ebpf-hub-init-", dir=directory.parent) as scratch:
        staging = Path(scratch) / "package"
        staging.mkdir()
        _copy(origin, files, staging)
        infos, settings = _build(tools, staging, name)
        license_id = _license(origin, programs, infos)
        written = list(files)
        architectures, notes = _architectures(tools, staging, name, settings)
        maintainer, note = _maintainer(origin)
        notes.extend([note] if note else [])
        if not (staging / "LICENSE").exists():
            if "GPL-2.0" not in license_id:
                raise HubError(
                    f"{origin} has no LICENSE file; add the text of {license_id} there",
                    hint="the LICENSE file travels in the artifact with the object",
                )
            shutil.copyfile(_GPL_TEXT, staging / "LICENSE")
            written.append(Path("LICENSE"))
        if not (staging / "README.md").exists():
            write_atomic(staging / "README.md", _readme(name, origin, files).encode())
            written.append(Path("README.md"))
        data = manifest(
            name,
            origin,
            license_id,
            architectures,
            infos,
            settings=settings,
            maintainer=maintainer,
        )
        header = _HEADER.format(origin=origin.name).encode()
        write_atomic(staging / MANIFEST, header + dump_entry(data))
        written.append(Path(MANIFEST))
        project = load_project(staging)  # the schema's check, as every command makes it
        package, version = project.identity(None)
        for arch in architectures:  # the hub's checks, on each architecture's objects
            with tempfile.TemporaryDirectory(prefix="ebpf-hub-import-") as out:
                build_sources(
                    staging, package, version, Path(out), metadata=project.manifest, arch=arch
                )
        if not settings.werror:
            notes.append(
                f"the C has compiler warnings (ebpf-hub build {directory} shows them): "
                f"compile.werror is false in {MANIFEST} until they are fixed"
            )
        if "output" not in data:
            notes.append(f"no `events` map: list the maps to print under output.maps in {MANIFEST}")
        if not (staging / "trigger").exists():
            notes.append("add an executable ./trigger that causes what the programs watch")
        _place(staging, directory)
    return Imported(directory, tuple(directory / f for f in written), tuple(notes))
