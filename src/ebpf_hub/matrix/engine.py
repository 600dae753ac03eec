"""A matrix run: every package's objects on every kernel chosen, one boot per kernel.

The objects of all packages go into one initramfs per architecture; each kernel of that
architecture boots it once, and the loader's report becomes a `ProgramResult` per program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.matrix.boot import boot
from ebpf_hub.matrix.config import KernelSpec
from ebpf_hub.matrix.frames import GuestReport, parse_console
from ebpf_hub.matrix.guest import GuestObject, GuestTools, guest_tools, initramfs
from ebpf_hub.matrix.kernels import kernel_image
from ebpf_hub.matrix.results import ProgramResult, Status, judge

# Seconds a guest may take: a boot under emulation, and each object's loads and attaches.
BOOT_SECONDS = 120.0
OBJECT_SECONDS = 20.0


TRIGGER = "trigger"  # a package's trigger script, as `ebpf-hub test` runs it
OPTIONAL = "optional"  # beside it: the optional programs the loader may leave out, one a line


@dataclass(frozen=True)
class MatrixPackage:
    """What a run tests: a package's label (NAME@VERSION, or a path), its objects, and its
    trigger script (`ebpf-hub test`'s) when it has one: the guest then also runs the whole
    package with the trigger and checks that output arrives, leaving out the `optional`
    programs whose hook that kernel lacks."""

    label: str
    objects: tuple[Path, ...]
    trigger: Path | None = None
    optional: frozenset[str] = frozenset()  # programs declared `optional: true`


@dataclass(frozen=True)
class KernelRun:
    """One kernel's boot: its results, and `error` when the guest stopped before the end.
    `seconds` is the whole boot; `package_seconds` the guest's time on each package."""

    kernel: KernelSpec
    release: str
    seconds: float
    results: tuple[ProgramResult, ...]
    error: str
    package_seconds: tuple[tuple[str, float], ...]

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(r.status is Status.FAIL for r in self.results)


def run_matrix(
    packages: Sequence[MatrixPackage],
    kernels: Sequence[KernelSpec],
    guest_suite: str,
    progress: Callable[[str], None],
) -> list[KernelRun]:
    """Boot each of `kernels` once with every object of `packages`, in the order given."""
    objects: dict[str, tuple[str, str]] = {}  # guest path -> (package label, object name)
    optional = {package.label: package.optional for package in packages}
    guest_objects = []
    for slot, package in enumerate(packages):
        for path in package.objects:
            item = GuestObject(str(slot), path.name, path.read_bytes())
            guest_objects.append(item)
            objects[item.guest_path] = (package.label, path.name)
        if package.trigger is not None:  # beside the objects: the loader looks for it there
            guest_objects.append(GuestObject(str(slot), TRIGGER, package.trigger.read_bytes()))
        if package.optional:
            listed = "".join(f"{name}\n" for name in sorted(package.optional)).encode()
            guest_objects.append(GuestObject(str(slot), OPTIONAL, listed))
    tools: dict[str, GuestTools] = {}
    runs = []
    for kernel in kernels:
        if kernel.arch not in tools:
            progress(f"{kernel.arch}: preparing the guest")
            tools[kernel.arch] = guest_tools(kernel.arch, guest_suite)
        progress(f"{kernel.label}: kernel {kernel.package} {kernel.version}")
        image = kernel_image(kernel)
        progress(f"{kernel.label}: booting")
        deadline = BOOT_SECONDS + OBJECT_SECONDS * len(guest_objects)
        guest = initramfs(tools[kernel.arch], guest_objects, image.modules)
        booted = boot(kernel.arch, image.path, guest, deadline, hide_btf=not kernel.btf)
        report = parse_console(booted.console)
        run = KernelRun(
            kernel,
            report.release,
            booted.seconds,
            tuple(_results(kernel, report, objects, optional)),
            _stopped_early(report, booted.timed_out, deadline),
            _package_seconds(report, objects),
        )
        outcome = "FAILED" if run.failed else "ok"
        progress(f"{kernel.label}: {outcome} in {booted.seconds:.1f} s")
        runs.append(run)
    return runs


def _results(
    kernel: KernelSpec,
    report: GuestReport,
    objects: dict[str, tuple[str, str]],
    optional: dict[str, frozenset[str]],
) -> list[ProgramResult]:
    results = []
    for attempt in report.attempts:
        package, name = objects.get(attempt.object, ("?", attempt.object))
        skippable = attempt.program in optional.get(package, frozenset())
        status, reason = judge(attempt, report.btf, skippable)
        results.append(
            ProgramResult(
                kernel.name,
                kernel.arch,
                package,
                name,
                attempt.program,
                attempt.section,
                status,
                reason,
            )
        )
    return results


def _package_seconds(
    report: GuestReport, objects: dict[str, tuple[str, str]]
) -> tuple[tuple[str, float], ...]:
    totals: dict[str, float] = {}
    for attempt in report.attempts:
        package = objects.get(attempt.object, ("?", ""))[0]
        totals[package] = totals.get(package, 0.0) + attempt.usec / 1e6
    return tuple(totals.items())


def _stopped_early(report: GuestReport, timed_out: bool, deadline: float) -> str:
    if report.finished:
        return ""
    why = f"no answer within {deadline:.0f} s" if timed_out else "the guest stopped"
    last = " | ".join(report.noise[-3:]) or "nothing on the console"
    return f"{why} before its loader finished; console: {last}"
