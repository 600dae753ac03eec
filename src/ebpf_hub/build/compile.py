"""Compiling a package's sources into stripped CO-RE objects."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ebpf_hub.build.toolchain import Toolchain
from ebpf_hub.errors import HubError


class CompileError(HubError):
    """The compiler refused the sources; the message carries its diagnostics."""


def program_sources(source_dir: Path) -> list[Path]:
    """The eBPF programs of a package: every `*.bpf.c` at the top of its source directory."""
    sources = sorted(source_dir.glob("*.bpf.c"))
    if not sources:
        raise HubError(f"{source_dir}: no *.bpf.c file; a package needs at least one eBPF program")
    return sources


def compile_objects(tools: Toolchain, source_dir: Path, out_dir: Path, label: str) -> list[Path]:
    """Compile each program of `source_dir` into `out_dir/<stem>.bpf.o`, DWARF stripped, BTF kept.

    `label` (NAME@VERSION) prefixes errors so a CI log says which package failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    source_dir = source_dir.resolve()
    for source in program_sources(source_dir):
        target = out_dir.resolve() / source.name.replace(".bpf.c", ".bpf.o")
        compiled = subprocess.run(
            [tools.clang, *tools.flags(source_dir), "-c", source.name, "-o", str(target)],
            cwd=source_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if compiled.returncode != 0:
            target.unlink(missing_ok=True)
            raise CompileError(
                f"{compiled.stderr.rstrip()}\n{label}: {source.name} does not compile (clang "
                f"exit {compiled.returncode}); fix the errors above"
            )
        subprocess.run([tools.strip, "-g", str(target)], check=True)
        objects.append(target)
    return objects
