"""The kernel matrix as the index summarises it, and what it says of one host.

`ebpf-hub publish --matrix` records, per package version, how every program fared on each
kernel of the hub's matrix (`ebpf_hub.matrix.record`); the JSON index carries one
`KernelVerdict` per kernel, which is what the client needs to answer "will it run on my
kernel?" without the engine: `install`, `run`, `info` and `doctor` match the host's kernel
(major.minor) and architecture against it (`host_verdict`).

Kept apart from `ebpf_hub.matrix` so the client reads it without importing qemu's world.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ebpf_hub.strenum import StrEnum

# uname -m -> the matrix's (and Debian's) name for the architecture
MATRIX_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
_KERNEL = re.compile(r"^(\d+)\.(\d+)")


class Verdict(StrEnum):
    """A kernel's verdict on a package version: every program loaded and attached (pass),
    one failed (fail), or none failed but some were not attached in the guest (skip)."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class KernelVerdict:
    """One kernel of the matrix (`kernel` is its hub.yaml name, "5.10"; `release` what the
    guest's uname said) and how the version fared on it; `reason` empty on a pass."""

    kernel: str
    arch: str
    release: str
    status: Verdict
    reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KernelVerdict:
        return cls(
            data["kernel"], data["arch"], data["release"], Verdict(data["status"]), data["reason"]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel,
            "arch": self.arch,
            "release": self.release,
            "status": str(self.status),
            "reason": self.reason,
        }

    @property
    def label(self) -> str:
        return f"{self.arch}/{self.kernel}"

    @property
    def series(self) -> tuple[int, int] | None:
        """(major, minor) of the kernel, from its release (else its name)."""
        return kernel_series(self.release) or kernel_series(self.kernel)


# name -> version -> the verdict of each kernel the version was tested on
Matrices = Mapping[str, Mapping[str, tuple[KernelVerdict, ...]]]


def kernel_series(text: str) -> tuple[int, int] | None:
    """(major, minor) of a kernel release or name ("6.1.0-50-cloud-amd64" -> (6, 1))."""
    match = _KERNEL.match(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


class HostResult(StrEnum):
    """What the matrix says of one host: its kernel was tested and passed, tested and failed,
    or not tested (no verdict for its kernel series and architecture)."""

    PASSED = "passed"
    FAILED = "failed"
    PARTIAL = "partial"  # verified, some program not attached in the guest
    UNTESTED = "untested"


@dataclass(frozen=True)
class HostVerdict:
    """The matrix's answer for one host: `tested`, the verdict it rests on (None when not
    tested) and the kernels of the host's architecture that were (to name them)."""

    tested: HostResult
    series: str  # the host's kernel, "6.18"
    arch: str
    verdict: KernelVerdict | None
    others: tuple[KernelVerdict, ...]

    def sentence(self) -> str:
        """One line for people: what was tested and how it went."""
        where = f"Linux {self.series} ({self.arch})"
        if self.verdict is not None:
            release = self.verdict.release
            if self.tested is HostResult.PASSED:
                return f"tested on {where}, {release}: passed"
            if self.tested is HostResult.FAILED:
                return f"tested on {where}, {release}: FAILED: {_one_line(self.verdict.reason)}"
            return (
                f"tested on {where}, {release}: loaded, not every program attached in the "
                f"test guest ({_one_line(self.verdict.reason)})"
            )
        if not self.others:
            return f"not tested on {where}: the hub recorded no test on {self.arch}"
        tested = ", ".join(f"{v.kernel} {v.status}" for v in self.others)
        return f"not tested on {where}; the hub tested {tested}"

    def to_json(self) -> dict[str, Any]:
        return {
            "tested": str(self.tested),
            "kernel": self.series,
            "arch": self.arch,
            "verdict": self.verdict.to_json() if self.verdict else None,
        }


def host_verdict(verdicts: Sequence[KernelVerdict], release: str, machine: str) -> HostVerdict:
    """What `verdicts` say of a host running kernel `release` on `machine` (uname -m)."""
    arch = MATRIX_ARCH.get(machine, machine)
    series = kernel_series(release)
    shown = ".".join(map(str, series)) if series else release
    same_arch = tuple(v for v in verdicts if v.arch == arch)
    match = next((v for v in same_arch if series is not None and v.series == series), None)
    if match is None:
        return HostVerdict(HostResult.UNTESTED, shown, arch, None, same_arch)
    tested = {
        Verdict.PASS: HostResult.PASSED,
        Verdict.FAIL: HostResult.FAILED,
        Verdict.SKIP: HostResult.PARTIAL,
    }[match.status]
    return HostVerdict(tested, shown, arch, match, same_arch)


def _one_line(reason: str) -> str:
    return " / ".join(line.strip() for line in reason.splitlines() if line.strip())
