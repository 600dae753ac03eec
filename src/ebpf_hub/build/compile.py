"""Compiling a package's sources into stripped CO-RE objects."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from ebpf_hub.build.eventanchor import (
    anchor_wrapper,
    missing_event_type,
    probe_wrapper,
    probed_struct,
    unnamed_event_map,
)
from ebpf_hub.build.toolchain import Toolchain
from ebpf_hub.errors import HubError
from ebpf_hub.model.package import CompileSettings
from ebpf_hub.safetext import escape


class CompileError(HubError):
    """The compiler refused the sources; the message carries its diagnostics."""


def program_sources(source_dir: Path) -> list[Path]:
    """The eBPF programs of a package: every `*.bpf.c` at the top of its source directory."""
    sources = sorted(source_dir.glob("*.bpf.c"))
    if not sources:
        raise HubError(f"{source_dir}: no *.bpf.c file; a package needs at least one eBPF program")
    return sources


def check_include_dirs(source_dir: Path, settings: CompileSettings, label: str) -> None:
    """Each `compile.include` directory is a real directory inside the source, reached through
    no link: headers from outside it would make the build depend on the build machine."""
    for relative in settings.include:
        current = source_dir
        for part in Path(relative).parts:
            current = current / part
            if current.is_symlink():
                raise HubError(
                    f"{label}: compile.include: {relative}: {current} is a link; "
                    "include directories must be real directories of the source"
                )
        if not current.is_dir():
            raise HubError(
                f"{label}: compile.include: {relative} is not a directory of the source; "
                "remove it from compile.include or add the directory"
            )


def _run_clang(
    tools: Toolchain,
    flags: list[str],
    source_dir: Path,
    target: Path,
    *,
    source: str,
    wrapper: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Compile `source` (or `wrapper`, C text fed on stdin that includes it) into `target`."""
    inputs = ["-x", "c", "-"] if wrapper is not None else [source]
    return subprocess.run(
        [tools.clang, *flags, "-c", *inputs, "-o", str(target)],
        cwd=source_dir,
        input=wrapper,
        capture_output=True,
        text=True,
        check=False,
    )


def _name_event_type(
    tools: Toolchain, flags: list[str], source_dir: Path, target: Path, *, source: str, label: str
) -> None:
    """Recompile `target` naming its `events` records when its BTF does not (`eventanchor`);
    refuse it when the C has no struct of a known name either."""
    map_type = unnamed_event_map(target)
    if map_type is None:
        return
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-probe-") as scratch:
        probe = Path(scratch) / "probe.o"
        probed = _run_clang(
            tools, flags, source_dir, probe, source=source, wrapper=probe_wrapper(source)
        )
        struct = probed_struct(probe) if probed.returncode == 0 else None
    if struct is None:
        target.unlink()
        raise missing_event_type(label, source, map_type)
    wrapper = anchor_wrapper(source, struct)
    compiled = _run_clang(tools, flags, source_dir, target, source=source, wrapper=wrapper)
    if compiled.returncode != 0:  # it compiled without the declaration: a bug of ours
        target.unlink(missing_ok=True)
        raise CompileError(
            f"{compiled.stderr.rstrip()}\n{label}: {source}: naming struct "
            f"{struct} as its event type failed; report it to eBPF Hub"
        )


def compile_objects(
    tools: Toolchain,
    source_dir: Path,
    out_dir: Path,
    label: str,
    settings: CompileSettings | None = None,
) -> list[Path]:
    """Compile each program of `source_dir` into `out_dir/<stem>.bpf.o`, DWARF stripped, BTF kept.

    `label` (NAME@VERSION) prefixes errors so a CI log says which package failed; `settings`
    are the package's bounded build settings (none by default).
    """
    settings = settings or CompileSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    source_dir = source_dir.resolve()
    check_include_dirs(source_dir, settings, label)
    flags = tools.flags(source_dir, settings)
    for source in program_sources(source_dir):
        target = out_dir.resolve() / source.name.replace(".bpf.c", ".bpf.o")
        compiled = _run_clang(tools, flags, source_dir, target, source=source.name)
        if compiled.returncode != 0:
            target.unlink(missing_ok=True)
            raise CompileError(
                f"{compiled.stderr.rstrip()}\n{label}: {source.name} does not compile (clang "
                f"exit {compiled.returncode}); fix the errors above"
            )
        for line in compiled.stderr.splitlines():  # warnings that do not fail (werror: false)
            print(escape(line), file=sys.stderr)
        _name_event_type(tools, flags, source_dir, target, source=source.name, label=label)
        subprocess.run([tools.strip, "-g", str(target)], check=True)
        objects.append(target)
    return objects
