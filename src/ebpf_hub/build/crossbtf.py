"""Kernel BTF for a target architecture other than the build host's, read out of a qemu guest.

A CO-RE object is compiled against a `vmlinux.h` of its target architecture: the register
layout behind libbpf's `PT_REGS_*` macros (uprobe and kprobe arguments) and a few types differ
between x86_64 and arm64. The host's own `/sys/kernel/btf/vmlinux` serves its architecture;
for another one the hub boots a pinned Debian kernel of that architecture (the kernel
matrix's cache and qemu, `ebpf_hub.matrix`) with a guest whose only job is to print
`/sys/kernel/btf/vmlinux` on the serial console as base64 between two markers.

The kernel is a build input like the compiler: pinned by Debian package and version, so every
machine gets the same BTF, hence the same `vmlinux.h` and the same objects. The BTF is cached
by its SHA-256 (`vmlinux/btf/<hex>`, hashed again on every use) and the kernel image's digest
maps to it (`vmlinux/kernels/<image hex>`), so the guest boots once per kernel.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file, open_regular, write_atomic
from ebpf_hub.matrix import cpio
from ebpf_hub.matrix.boot import boot
from ebpf_hub.matrix.config import KernelSpec
from ebpf_hub.matrix.debian import open_archive, scratch, verify_sha256
from ebpf_hub.matrix.guest import CONSOLE
from ebpf_hub.matrix.kernels import KernelImage, apt_root, kernel_image
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir

# The kernel whose BTF each foreign target architecture is built against (by the build's
# name of the architecture, as `uname -m` says it): changing it changes every object of that
# architecture, like a new compiler. Its types must cover what the hub's headers declare
# (build/include/vmlinux.h's kfuncs need bpf_iter_num, 6.4+). The guest's busybox, which only
# prints the BTF, comes from GUEST_SUITE.
HEADER_KERNELS = {
    "aarch64": KernelSpec(
        "6.12", "arm64", "trixie", "linux-image-6.12.117+deb13-cloud-arm64", "6.12.117-1"
    ),
}
GUEST_SUITE = "bookworm"
BUSYBOX_PACKAGE = "busybox-static"
_BUSYBOX_PATHS = ("./bin/busybox", "./usr/bin/busybox")
BOOT_SECONDS = 180.0  # a boot under emulation and ~7 MB of base64 on the serial console
_BEGIN, _END = "EBPF-HUB-BTF-BEGIN", "EBPF-HUB-BTF-END"
_DUMP = re.compile(rf"^{_BEGIN}\r?$(.*?)^{_END}\r?$", re.M | re.S)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_INIT = f"""#!/bin/busybox sh
b=/bin/busybox
$b mount -t sysfs sysfs /sys
echo {_BEGIN}
$b base64 /sys/kernel/btf/vmlinux
echo {_END}
$b reboot -f
""".encode()


@dataclass(frozen=True)
class KernelBtf:
    """The BTF of a pinned kernel, verified: the file in the cache and its SHA-256."""

    kernel: KernelSpec
    path: Path
    sha256: str

    @property
    def source(self) -> str:
        """Where the BTF comes from, as the artifact config records it."""
        return f"debian:{self.kernel.suite}/{self.kernel.package}={self.kernel.version}"


def header_kernel(arch: str) -> KernelSpec:
    """The pinned kernel for target `arch` (aarch64), or a clear error for another one."""
    try:
        return HEADER_KERNELS[arch]
    except KeyError:
        raise HubError(
            f"no kernel BTF to build {arch} objects from on this host",
            hint=f"build for {', '.join(HEADER_KERNELS)}, or on a {arch} host",
        ) from None


def kernel_btf(arch: str) -> KernelBtf:
    """The BTF of the kernel pinned for `arch`: from the cache, else read out of a guest."""
    spec = header_kernel(arch)
    image = kernel_image(spec)  # cached by digest, hashed again here
    record = private_dir(cache_dir(), "vmlinux", "kernels") / image.sha256
    blobs = private_dir(cache_dir(), "vmlinux", "btf")
    what = f"the BTF of {spec.package} {spec.version}"
    if is_regular_file(record):
        digest = _read_record(record)
        if is_regular_file(blobs / digest):
            verify_sha256(blobs / digest, digest, what)
            return KernelBtf(spec, blobs / digest, digest)
    data = _read_from_guest(image)
    digest = hashlib.sha256(data).hexdigest()
    write_atomic(blobs / digest, data)
    write_atomic(record, digest.encode())
    return KernelBtf(spec, blobs / digest, digest)


def _read_record(record: Path) -> str:
    with open_regular(record) as stream:
        digest = stream.read(65).decode(errors="replace")
    if not _DIGEST.match(digest):
        raise HubError(f"{record}: not a BTF digest", hint=f"delete {record} to read it again")
    return digest


def _read_from_guest(image: KernelImage) -> bytes:
    """Boot `image` with the dumping guest and decode what it printed."""
    spec = image.spec
    initramfs = cpio.archive(
        [
            cpio.directory("bin"),
            cpio.regular("bin/busybox", _busybox(spec), executable=True),
            cpio.directory("dev"),
            cpio.char_device("dev/console", *CONSOLE),
            cpio.directory("sys"),
            cpio.regular("init", _INIT, executable=True),
        ]
    )
    booted = boot(spec.arch, image.path, initramfs, BOOT_SECONDS)
    found = _DUMP.search(booted.console)
    if found is None:
        why = f"no answer within {BOOT_SECONDS:.0f} s" if booted.timed_out else "no BTF printed"
        tail = " | ".join(booted.console.strip().splitlines()[-3:]) or "nothing on the console"
        raise HubError(
            f"kernel {spec.label} ({spec.package} {spec.version}): {why}; console: {tail}",
            hint="the kernel needs CONFIG_DEBUG_INFO_BTF=y; pin one that has it",
        )
    try:
        return base64.b64decode("".join(found.group(1).split()), validate=True)
    except binascii.Error as exc:
        raise HubError(
            f"kernel {spec.label}: the BTF on the console is damaged ({exc})",
            hint="run the build again",
        ) from None


def _busybox(spec: KernelSpec) -> bytes:
    """busybox of the guest suite for `spec`'s architecture: its static binary, read out of
    the .deb apt fetched and checked against the suite's signed lists (nothing else of the
    package reaches the disk, and no compiler is needed, unlike the matrix's guest)."""
    root = private_dir(cache_dir(), "vmlinux", "busybox")
    with (
        open_archive(apt_root(), GUEST_SUITE, spec.debian_arch) as archive,
        scratch(root) as work,
    ):
        deb = archive.download(BUSYBOX_PACKAGE, None, work)
        command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as unpack:
            assert unpack.stdout is not None  # noqa: S101 - stdout=PIPE
            with tarfile.open(fileobj=unpack.stdout, mode="r|") as tar:
                for member in tar:
                    source = tar.extractfile(member) if member.isfile() else None
                    if source is not None and member.name in _BUSYBOX_PATHS:
                        data = source.read()
                        break
                else:
                    data = b""
            unpack.stdout.read()  # the archive's padding: dpkg-deb exits 0 only when all is read
    if unpack.returncode != 0 or not data:
        raise HubError(
            f"{BUSYBOX_PACKAGE} ({spec.debian_arch}, Debian {GUEST_SUITE}) holds no bin/busybox",
            hint="report it to eBPF Hub",
        )
    return data
