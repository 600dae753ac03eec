"""The files a package's build reads: its programs and the headers they include from it.

`init --from` copies them out of a directory of many tools (libbpf-tools keeps some eighty in
one), and `submit --local` copies them into a hub's `sources/`. Clang says which headers a
program includes (`-MM`, with the flags of a real build), so a header included under a macro
that is off is left out just as the build leaves it out. Headers of the hub's own set
(`ebpf_hub.build.include`), the generated vmlinux.h and the system's are not copied: every
build has them. A header reached through a link, or outside the directory, is refused: the
copy must build on its own, and nothing is followed that the author did not put there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ebpf_hub.build.compile import check_include_dirs
from ebpf_hub.build.package import DOCUMENTS
from ebpf_hub.build.toolchain import Toolchain
from ebpf_hub.errors import HubError
from ebpf_hub.model.package import CompileSettings

# What `ebpf-hub test` runs; it travels with the sources so a local hub's package tests too.
TRIGGER = "trigger"
# A header every build provides, even when a tool's directory holds its own (libbpf-tools
# links vmlinux.h to a per-architecture copy of some kernel's).
GENERATED = frozenset({"vmlinux.h"})


def _dependencies(tools: Toolchain, flags: list[str], directory: Path, source: str) -> list[str]:
    """Every file clang reads to compile `source` in `directory`, as it spells them."""
    listed = subprocess.run(
        [tools.clang, *flags, "-MM", source],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise HubError(
            f"{listed.stderr.rstrip()}\n{directory / source}: clang cannot read its includes; "
            "fix the errors above"
        )
    rule = listed.stdout.replace("\\\n", " ")
    return rule.partition(":")[2].split()[1:]  # the first is the source itself


def _inside(directory: Path, spelled: str) -> Path | None:
    """`spelled` relative to `directory` if it is one of its files, None if it is elsewhere;
    refuses a link on the way, since the copy would hold something other than what built."""
    path = Path(spelled) if Path(spelled).is_absolute() else directory / spelled
    try:
        relative = Path(*path.absolute().parts).relative_to(directory)
    except ValueError:
        return None
    if ".." in relative.parts:
        raise HubError(
            f"{directory}: a program includes {spelled}, outside the directory; copy that "
            "header into it and include it from there"
        )
    current = directory
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise HubError(
                f"{current} is a link; replace it with the file it points to "
                f'(cp --remove-destination "$(readlink -f {current})" {current})'
            )
    return relative


def source_files(
    tools: Toolchain, directory: Path, programs: list[Path], settings: CompileSettings
) -> list[Path]:
    """The files of `directory` (relative paths) the package needs: `programs`, the headers
    they include from it, and README.md, LICENSE and trigger where present."""
    directory = directory.resolve()
    check_include_dirs(directory, settings, str(directory))
    flags = tools.flags(directory, settings)
    hub_headers = (tools.include_dir.resolve(), tools.vmlinux_dir.resolve())
    needed: dict[Path, None] = {}
    for program in programs:
        needed[program.relative_to(directory)] = None
        for spelled in _dependencies(tools, flags, directory, program.name):
            if Path(spelled).name in GENERATED or any(
                Path(spelled).resolve().is_relative_to(root) for root in hub_headers
            ):
                continue
            relative = _inside(directory, spelled)
            if relative is not None:
                needed[relative] = None
    for extra in (*DOCUMENTS, TRIGGER):
        if (directory / extra).is_file() and not (directory / extra).is_symlink():
            needed[Path(extra)] = None
    return list(needed)
