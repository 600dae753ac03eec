"""Booting one kernel with a guest initramfs in qemu, and reading its serial console.

Software emulation (TCG) throughout: it works on every host, where KVM may be absent or, as
on some virtual machines, fail on model-specific registers. The guest reboots when its work
is done (`-no-reboot` turns that into qemu exiting); a guest that hangs is stopped at the
deadline. The console goes to a file, read once qemu has exited.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError

MEMORY_MB = 512
# Per architecture: the qemu binary, its machine options, the guest's console device and the
# Debian package that has the binary.
# The kernel command-line word the guest's init reads to hide BTF (`KernelSpec.btf`).
NO_BTF_OPTION = "ebpf_hub.nobtf"
QEMU = {
    "x86_64": ("qemu-system-x86_64", ("-machine", "q35"), "ttyS0", "qemu-system-x86"),
    "arm64": (
        "qemu-system-aarch64",
        ("-machine", "virt", "-cpu", "cortex-a57"),
        "ttyAMA0",
        "qemu-system-arm",
    ),
}


@dataclass(frozen=True)
class Boot:
    """What one boot printed on its console, and how it ended."""

    console: str
    seconds: float
    timed_out: bool


def boot(
    arch: str, kernel: Path, initramfs: bytes, deadline: float, *, hide_btf: bool = False
) -> Boot:
    """Boot `kernel` with `initramfs` until the guest powers off or `deadline` seconds pass;
    with `hide_btf`, the guest's init hides /sys/kernel/btf (see `guest/init`)."""
    binary, machine, console, package = QEMU[arch]
    qemu = shutil.which(binary)
    if qemu is None:
        raise HubError(
            f"{binary} not found: the matrix boots {arch} kernels with it",
            hint=f"install {package} (scripts/bootstrap --dev does)",
        )
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-matrix-") as work:
        initrd = Path(work) / "initrd"
        initrd.write_bytes(initramfs)
        log = Path(work) / "console"
        nobtf = f" {NO_BTF_OPTION}" if hide_btf else ""
        command = [
            *(qemu, *machine, "-accel", "tcg", "-m", str(MEMORY_MB), "-smp", "1"),
            *("-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot"),
            *("-serial", f"file:{log}", "-kernel", str(kernel), "-initrd", str(initrd)),
            *("-append", f"console={console} panic=-1 oops=panic loglevel=1{nobtf}"),
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=deadline,
                check=False,
            )
        except subprocess.TimeoutExpired:
            timed_out = True
        else:
            timed_out = False
            if done.returncode != 0:
                raise HubError(
                    f"{binary} failed (exit {done.returncode}): "
                    f"{done.stderr.decode(errors='replace').strip()[-400:]}",
                    hint=f"check that {package} works on this host",
                )
        seconds = time.monotonic() - started
        text = log.read_text(errors="replace") if log.is_file() else ""
    return Boot(text, seconds, timed_out)
