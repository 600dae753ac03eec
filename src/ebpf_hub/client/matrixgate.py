"""The kernel matrix at the door: `install` and `run` check this host against the record.

The hub tested the version on each kernel of its matrix; the host's kernel (major.minor) and
architecture either were tested, passing or failing, or were not. A known failure refuses,
with the recorded reason and the override (`--ignore-matrix`): the kernel's verifier would
most likely refuse it the same way, and a user should not find out halfway through a run. A
pass, a partial pass and no test at all are said on stderr and go ahead.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence

from ebpf_hub.client.console import say, warn
from ebpf_hub.errors import HubError
from ebpf_hub.model.matrix import HostResult, HostVerdict, KernelVerdict, host_verdict

IGNORE_OPTION = "--ignore-matrix"


def this_host(verdicts: Sequence[KernelVerdict]) -> HostVerdict:
    """What `verdicts` say of the kernel and machine this process runs on."""
    return host_verdict(verdicts, os.uname().release, platform.machine())


def matrix_gate(label: str, verdicts: Sequence[KernelVerdict] | None, ignore: bool) -> None:
    """Refuse `label` (NAME VERSION) on a kernel where the matrix saw it fail, unless
    `ignore`; otherwise say what the matrix knows of this kernel."""
    if verdicts is None:
        say(f"{label}: not tested on the hub's kernel matrix")
        return
    answer = this_host(verdicts)
    if answer.tested is not HostResult.FAILED:
        say(f"{label}: {answer.sentence()}")
        return
    if not ignore:
        raise HubError(
            f"{label} is known to fail on this kernel, so nothing was done: {answer.sentence()}",
            hint=f"use a kernel where it passed (`ebpf-hub info {label.partition(' ')[0]}`), "
            f"or pass {IGNORE_OPTION} to try anyway",
        )
    warn(f"{label}: {answer.sentence()}; going ahead ({IGNORE_OPTION})")
