"""The command that tests packages on the hub's kernel matrix: matrix."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from ebpf_hub.commands.client import add_client_options, settings_from
from ebpf_hub.commands.common import add_command, add_root


def cmd_matrix(args: argparse.Namespace) -> int:
    from ebpf_hub.client.console import say, show, show_json
    from ebpf_hub.errors import HubError
    from ebpf_hub.index.config import find_root
    from ebpf_hub.matrix.config import load_matrix
    from ebpf_hub.matrix.engine import MatrixPackage, run_matrix
    from ebpf_hub.matrix.report import table, to_json
    from ebpf_hub.run.target import open_target

    root = Path(args.root).resolve() if args.root else find_root(Path.cwd().resolve())
    matrix = load_matrix(root)
    kernels = matrix.select(words(args.kernels), words(args.arch))
    if args.list:
        for kernel in kernels:
            show(f"{kernel.label:<14} {kernel.suite:<18} {kernel.package} {kernel.version}")
        return 0
    if not args.targets:
        raise HubError("no TARGET given", hint="name a package, or a path with a '/' in it")
    with ExitStack() as stack:
        targets = [
            stack.enter_context(
                # the matrix tests on other kernels than this host's: no refusal for it here
                open_target(spec, lambda: settings_from(args), args.allow_unsigned, True)
            )
            for spec in args.targets
        ]
        packages = [
            MatrixPackage(
                target.label, target.objects, _trigger(spec), target.declared.choices.optional
            )
            for spec, target in zip(args.targets, targets)
        ]
        runs = run_matrix(
            packages, kernels, matrix.guest_suite, lambda line: say(f"matrix: {line}")
        )
    if args.json:
        show_json(to_json(runs))
    else:
        for line in table(runs):
            show(line)
    return 1 if any(run.failed for run in runs) else 0


def add_kernel_options(sub: argparse.ArgumentParser) -> None:
    """--kernels and --arch: which kernels of the matrix to boot (matrix, publish --matrix)."""
    sub.add_argument(
        "--kernels",
        action="append",
        metavar="NAME,...",
        help="only these kernels of the matrix (e.g. 5.10,6.1); default: all",
    )
    sub.add_argument(
        "--arch",
        action="append",
        metavar="ARCH,...",
        help="only kernels of these architectures (x86_64, arm64); default: all",
    )


def words(values: list[str] | None) -> list[str]:
    """`--kernels 5.10,6.1 --kernels 7.2` -> ["5.10", "6.1", "7.2"]."""
    return [word for value in values or [] for word in value.split(",") if word]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    matrix = add_command(
        commands,
        "matrix",
        cmd_matrix,
        "load and attach a package's programs on each kernel of the hub's matrix (qemu)",
        "Boot each kernel of the matrix in index/hub.yaml (Debian kernels, x86_64 and arm64, "
        "fetched from Debian's signed archive and cached by digest) under qemu with a minimal "
        "guest that loads every program of TARGET (the verifier runs) and attaches it. TARGET "
        "is NAME[@VERSION] (installed first if needed) or a PATH with a '/' in it (an object, "
        "a directory of objects or an unpacked artifact, or a package's sources, compiled "
        "first); several TARGETs share one boot per kernel. Prints a program x kernel table "
        "of pass, FAIL and skip with the reasons (the verifier's or attach error; a missing "
        "hook or BTF is a skip); exits 1 when a program fails on a kernel. Progress goes to "
        "stderr.",
    )
    matrix.add_argument("targets", nargs="*", metavar="TARGET")
    add_kernel_options(matrix)
    matrix.add_argument("--list", action="store_true", help="list the matrix's kernels and exit")
    add_root(matrix)
    add_client_options(matrix, registry=True, trust=True)


def _trigger(spec: str) -> Path | None:
    """The trigger script of a package directory given as TARGET (`ebpf-hub test`'s)."""
    from ebpf_hub.fsutil import is_regular_file

    trigger = Path(spec) / "trigger"
    return trigger if "/" in spec and is_regular_file(trigger) else None
