"""Results of the matrix: one per program and kernel, pass, fail or skip, with the reason.

`judge` turns what the loader saw (`frames.Attempt`) into a verdict, and keeps of libbpf's
log only the lines that say why: the verifier's last words before its statistics, or
libbpf's own message for an attach. A missing hook (a tracepoint or function this kernel
does not have) and a kernel without BTF are skips, not failures: the program is not wrong,
the kernel lacks what it is written for. A program verified but not attachable in the guest
is a skip that says so: its section names no target (a bare `uprobe`), the guest lacks the
binary a uprobe names, or a TC program meets a kernel without the clsact qdisc.

`ProgramResult` is the record the next steps (attestations, the index, the site) will store.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from typing import Any

from ebpf_hub.matrix.frames import Attempt
from ebpf_hub.strenum import StrEnum

REASON_LINES = 3  # the verifier's lines kept: the failing instruction and its message
_LOG_BEGIN = "-- BEGIN PROG LOAD LOG --"
_LOG_END = "-- END PROG LOAD LOG --"
# The verifier's closing statistics, not its reason.
_STATS = re.compile(r"^(processed \d+ insns|verification time|stack depth|Func#|\s*$)")
_LIBBPF = re.compile(r"^libbpf: (?:prog '[^']*': )?")
# libbpf lines that only repeat that something failed, or warn of something harmless.
_GENERIC = re.compile(
    r"^(failed to load object|failed to load: |failed to load program|elf: skipping)"
)
_USER_SPACE = ("uprobe", "uretprobe", "usdt")  # sections whose hook is in a program
_NO_QDISC = "Specified qdisc kind is unknown"
_NO_HOOK_AT_LOAD = re.compile(r"failed to find kernel BTF type ID|failed to find BTF for extern")


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class ProgramResult:
    """One program of one object of one package, on one kernel of one architecture."""

    kernel: str
    arch: str
    package: str
    object: str
    program: str
    section: str
    status: Status
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel,
            "arch": self.arch,
            "package": self.package,
            "object": self.object,
            "program": self.program,
            "section": self.section,
            "status": str(self.status),
            "reason": self.reason,
        }


def judge(attempt: Attempt, btf: bool, optional: bool = False) -> tuple[Status, str]:
    """The verdict on one attempt, on a kernel with or without BTF. A missing hook is a
    pass for an `optional` program: `run` skips it there with a note, as declared."""
    if attempt.phase == "output" and attempt.left_out:
        names = ", ".join(attempt.left_out)
        return Status.PASS, f"optional {names} left out: hook missing in this kernel"
    if attempt.phase in ("done", "output"):
        return Status.PASS, ""
    if attempt.phase == "no-output":
        return Status.FAIL, "no output after its trigger: no event and no map entry"
    if attempt.phase == "trigger":
        return Status.FAIL, f"its trigger failed ({_errno_text(attempt.errno)})"
    if attempt.phase == "cannot-trigger":
        return Status.SKIP, "loaded and attached; its trigger cannot run in the guest (exit 77)"
    detail = reason_from_log(attempt.log) or _errno_text(attempt.errno)
    if not btf and attempt.phase in ("open", "load"):
        return Status.SKIP, f"this kernel has no BTF (CONFIG_DEBUG_INFO_BTF): {detail}"
    if attempt.phase == "attach":
        if attempt.errno == errno.EOPNOTSUPP:
            return Status.SKIP, f"verified, not attached: its section names no target ({detail})"
        if attempt.section.startswith(_USER_SPACE) and attempt.errno == errno.ENOENT:
            return Status.SKIP, f"verified, not attached: the guest lacks its program ({detail})"
        if _NO_QDISC in attempt.log:
            return Status.SKIP, (
                "verified, not attached: the clsact qdisc is a module in this kernel "
                "and the guest loads none"
            )
        if attempt.errno == errno.ENOENT:
            return _hook_missing(
                f"verified, not attached: hook missing in this kernel ({detail})", optional
            )
    if attempt.phase == "load" and _NO_HOOK_AT_LOAD.search(attempt.log):
        return _hook_missing(f"hook missing in this kernel: {detail}", optional)
    where = {"load": "verifier", "attach": "attach", "open": "open"}.get(attempt.phase, "error")
    return Status.FAIL, f"{where}: {detail}"


def _hook_missing(reason: str, optional: bool) -> tuple[Status, str]:
    if optional:
        return Status.PASS, f"optional, skipped here: {reason}"
    return Status.SKIP, reason


def reason_from_log(log: str) -> str:
    """The lines of a libbpf log that say why: the verifier's reason if it spoke, else
    libbpf's first specific message."""
    lines = log.splitlines()
    if _LOG_BEGIN in log:
        start = next(i for i, line in enumerate(lines) if _LOG_BEGIN in line) + 1
        end = next((i for i, line in enumerate(lines) if _LOG_END in line), len(lines))
        verifier = [line for line in lines[start:end] if not _STATS.match(line)]
        if verifier:
            return "\n".join(verifier[-REASON_LINES:])
    for line in reversed(lines):
        message = _LIBBPF.sub("", line).strip()
        if message and _LIBBPF.match(line) and not _GENERIC.match(message):
            return message
    return ""


def _errno_text(number: int) -> str:
    return f"{errno.errorcode.get(number, 'errno')} ({number})"
