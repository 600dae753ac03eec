"""A package version's matrix results as recorded: every program on every kernel tested.

`VersionMatrix` is what `ebpf-hub publish --matrix` records per version (the matrix ledger,
`ebpf_hub.publish.matrixledger`, a file per kernel), the source of the index's summary (one
`KernelVerdict` per kernel) and the predicate of the signed attestation attached to the
artifact (`predicate`). It holds no timing, so the same kernels and objects give the same
bytes, and the kernels of CI's jobs (one per kernel) merge in any order.

`minimum_kernel_problem` is the publish step's check of the declared minimum kernel: a
version that fails on a kernel it claims to support is refused with the verifier's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ebpf_hub.matrix.results import Status
from ebpf_hub.model.matrix import MATRIX_ARCH, KernelVerdict, Verdict, kernel_series

if TYPE_CHECKING:  # the engine (qemu, Debian's archive) is only needed to run one
    from ebpf_hub.matrix.engine import KernelRun

# The longest reason the index carries (its schema allows 4000): the verifier's last lines.
REASON_LIMIT = 2000
# The in-toto predicate type of the attestation (the signing side attaches it as a referrer).
PREDICATE_TYPE = "https://ebpf-hub.github.io/attestations/kernel-matrix/v1"


@dataclass(frozen=True)
class ProgramOutcome:
    """One program on one kernel: its verdict and, unless it passed, why."""

    object: str
    program: str
    section: str
    status: Status
    reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProgramOutcome:
        return cls(
            data["object"], data["program"], data["section"], Status(data["status"]), data["reason"]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "program": self.program,
            "section": self.section,
            "status": str(self.status),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class KernelOutcome:
    """One kernel's boot for this version: the kernel pinned (Debian package and version),
    what the guest reported as its release, every program's outcome, and `error` when the
    guest stopped before its loader finished."""

    kernel: str
    arch: str
    package: str
    version: str
    release: str
    error: str
    programs: tuple[ProgramOutcome, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KernelOutcome:
        return cls(
            data["kernel"],
            data["arch"],
            data["package"],
            data["version"],
            data["release"],
            data["error"],
            tuple(ProgramOutcome.from_json(p) for p in data["programs"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel,
            "arch": self.arch,
            "package": self.package,
            "version": self.version,
            "release": self.release,
            "error": self.error,
            "programs": [p.to_json() for p in self.programs],
        }

    @property
    def label(self) -> str:
        return f"{self.arch}/{self.kernel}"

    def verdict(self) -> KernelVerdict:
        """The kernel's summary: a failure (the first failing program's reason, or the
        guest's error) over a skip over a pass."""
        failed = [p for p in self.programs if p.status is Status.FAIL]
        skipped = [p for p in self.programs if p.status is Status.SKIP]
        if self.error or failed:
            reason = self.error or f"{failed[0].program}: {failed[0].reason}"
            status = Verdict.FAIL
        elif skipped:
            reason, status = f"{skipped[0].program}: {skipped[0].reason}", Verdict.SKIP
        else:
            reason, status = "", Verdict.PASS
        return KernelVerdict(self.kernel, self.arch, self.release, status, reason[:REASON_LIMIT])


@dataclass(frozen=True)
class VersionMatrix:
    """Every kernel one package version was tested on, ordered by architecture and kernel."""

    name: str
    version: str
    kernels: tuple[KernelOutcome, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VersionMatrix:
        return cls(
            data["name"],
            data["version"],
            tuple(KernelOutcome.from_json(k) for k in data["kernels"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kernels": [k.to_json() for k in self.kernels],
        }

    def merged(self, newer: VersionMatrix) -> VersionMatrix:
        """This record with `newer`'s kernels added, replacing any it had already."""
        by_label = {k.label: k for k in self.kernels}
        by_label.update((k.label, k) for k in newer.kernels)
        return VersionMatrix(self.name, self.version, _ordered(by_label.values()))

    def verdicts(self) -> tuple[KernelVerdict, ...]:
        """The index's summary: one verdict per kernel."""
        return tuple(k.verdict() for k in self.kernels)

    def predicate(self) -> MatrixPredicate:
        """The predicate of the in-toto statement attached to the artifact as a referrer."""
        return MatrixPredicate(self)


@dataclass(frozen=True)
class MatrixPredicate:
    """The attestation's predicate: the whole record, under `PREDICATE_TYPE`. The signing
    side wraps it in an in-toto statement whose subject is the artifact's manifest digest."""

    record: VersionMatrix
    predicate_type: str = PREDICATE_TYPE

    def to_json(self) -> dict[str, Any]:
        return self.record.to_json()


def from_runs(
    runs: Sequence[KernelRun], versions: Mapping[str, tuple[str, str]]
) -> list[VersionMatrix]:
    """The record of each version tested in `runs`; `versions` maps the label a run gave
    each package (`MatrixPackage.label`) to its (name, version)."""
    records = []
    for label, (name, version) in versions.items():
        kernels = [
            KernelOutcome(
                run.kernel.name,
                run.kernel.arch,
                run.kernel.package,
                run.kernel.version,
                run.release,
                run.error,
                tuple(
                    ProgramOutcome(r.object, r.program, r.section, r.status, r.reason)
                    for r in run.results
                    if r.package == label
                ),
            )
            for run in runs
        ]
        records.append(VersionMatrix(name, version, _ordered(kernels)))
    return records


def minimum_kernel_problem(
    record: VersionMatrix, minimum: str, architectures: Sequence[str]
) -> str | None:
    """Why a version declaring Linux >= `minimum` on `architectures` (as requires names
    them: x86_64, aarch64) may not be published: it failed on a kernel of the matrix it
    claims to support (the first such, with its reason)."""
    wanted = kernel_series(minimum) or (0, 0)
    arches = {MATRIX_ARCH.get(arch, arch) for arch in architectures}
    for kernel in record.kernels:
        verdict = kernel.verdict()
        supported = kernel.arch in arches and (verdict.series or (0, 0)) >= wanted
        if verdict.status is Verdict.FAIL and supported:
            return (
                f"{record.name} {record.version} declares requires.kernel {minimum} but fails "
                f"on {kernel.label} ({kernel.release}): " + " / ".join(verdict.reason.splitlines())
            )
    return None


def _ordered(kernels: Iterable[KernelOutcome]) -> tuple[KernelOutcome, ...]:
    """By architecture, then kernel series (5.10 before 6.1), then name."""
    return tuple(
        sorted(kernels, key=lambda k: (k.arch, kernel_series(k.kernel) or (0, 0), k.kernel))
    )
