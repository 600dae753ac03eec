"""The compiler, its fixed flags, and the headers every package builds against.

Objects for the build host's architecture are compiled against a vmlinux.h that bpftool
writes from the running kernel's BTF (/sys/kernel/btf/vmlinux), cached by that BTF's SHA-256:
the same kernel gives the same header, and the artifact records the digest. Objects for
another architecture (`toolchain_for`) use the BTF of a pinned Debian kernel of it instead,
read out of a qemu guest (`ebpf_hub.build.crossbtf`); the artifact records its digest and
the kernel package it came from.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file, write_atomic
from ebpf_hub.model.package import CompileSettings
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")

# __TARGET_ARCH_* selects the register layout libbpf's PT_REGS macros read (uprobe arguments).
TARGET_ARCH = {"x86_64": "x86", "aarch64": "arm64"}

# Fixed flags: -g gives the BTF that CO-RE needs (DWARF is stripped afterwards), and paths are
# mapped to fixed names so that the objects do not depend on where the build ran. A package
# may turn -Werror off and add macros and include directories (`CompileSettings`), no more.
BASE_FLAGS = ("-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-fno-ident")
WERROR = "-Werror"

INSTALL_HINT = "install clang, llvm and bpftool (scripts/bootstrap does)"


@dataclass(frozen=True)
class Toolchain:
    clang: str
    strip: str
    clang_version: str
    include_dir: Path
    vmlinux_dir: Path
    vmlinux_btf_sha256: str
    arch: str
    # Where that BTF came from when it is not the build host's running kernel: a pinned Debian
    # kernel of the target architecture (`ebpf_hub.build.crossbtf`).
    vmlinux_source: str | None = None

    def flags(self, source_dir: Path, settings: CompileSettings | None = None) -> list[str]:
        """Every flag of a compile in `source_dir` with a package's `settings` (none by
        default); equal inputs give byte-equal objects.

        The hub's headers come before vmlinux.h's directory: its `vmlinux.h` and
        `bpf/*.h` wrap the generated and the system's ones (`#include_next`).
        """
        return [
            *recorded_flags(self.arch, settings or CompileSettings()),
            f"-I{self.include_dir}",
            f"-I{self.vmlinux_dir}",
            f"-fdebug-prefix-map={source_dir}=/src",
            f"-fdebug-prefix-map={self.vmlinux_dir}=/include",
            f"-fdebug-prefix-map={self.include_dir}=/include",
            "-fdebug-compilation-dir=/src",
        ]


def recorded_flags(arch: str, settings: CompileSettings) -> tuple[str, ...]:
    """The flags that decide an object's bytes, as its artifact records them: the fixed ones
    and the package's settings (include directories relative to the source, where clang runs);
    the hub's own header directories are left out, mapped to /include in the object."""
    return (
        *(flag for flag in BASE_FLAGS if settings.werror or flag != WERROR),
        f"-D__TARGET_ARCH_{TARGET_ARCH[arch]}",
        *(f"-D{name}={value}" for name, value in settings.defines),
        *(f"-I{directory}" for directory in settings.include),
    )


def _tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise HubError(f"{names[0]} not found; {INSTALL_HINT}")


@cache
def toolchain() -> Toolchain:
    """The host's toolchain, with vmlinux.h generated (once per kernel BTF) into the cache."""
    arch = platform.machine()
    if arch not in TARGET_ARCH:
        raise HubError(f"building on {arch} is not supported; use x86_64 or aarch64")
    clang = _tool("clang")
    strip = _tool("llvm-strip", "llvm-strip-14")
    version = subprocess.run([clang, "--version"], capture_output=True, text=True, check=True)
    include = Path(str(resources.files("ebpf_hub") / "build" / "include"))
    btf_sha, vmlinux_dir = _vmlinux_header()
    return Toolchain(
        clang, strip, version.stdout.splitlines()[0].strip(), include, vmlinux_dir, btf_sha, arch
    )


def _vmlinux_header() -> tuple[str, Path]:
    """vmlinux.h for this kernel's BTF, cached by the BTF's hash: a new kernel regenerates it.

    Every object is compiled against it, so its directory is held to the client's rule
    (`ebpf_hub.privatedir`: no link, no directory of another user) and anything but a regular
    file there (a planted link) is replaced, never followed.
    """
    if not VMLINUX_BTF.exists():
        raise HubError(
            f"{VMLINUX_BTF} not found: this kernel has no BTF; "
            "build on a kernel with CONFIG_DEBUG_INFO_BTF=y"
        )
    btf_sha = hashlib.sha256(VMLINUX_BTF.read_bytes()).hexdigest()
    return btf_sha, _header_from(VMLINUX_BTF, btf_sha)


def _header_from(btf: Path, btf_sha: str) -> Path:
    """The directory of the vmlinux.h `bpftool btf dump` writes for `btf` (SHA-256 `btf_sha`)."""
    directory = private_dir(cache_dir(), "vmlinux", btf_sha[:16])
    header = directory / "vmlinux.h"
    if not is_regular_file(header):
        bpftool = _tool("bpftool")
        dump = subprocess.run(
            [bpftool, "btf", "dump", "file", str(btf), "format", "c"],
            capture_output=True,
            check=False,
        )
        if dump.returncode != 0:
            raise HubError(
                f"bpftool could not dump {btf}: {dump.stderr.decode(errors='replace').strip()}"
            )
        write_atomic(header, dump.stdout)
    return directory


@cache
def toolchain_for(arch: str) -> Toolchain:
    """The toolchain that builds objects for target `arch` (`uname -m` names: x86_64,
    aarch64): the host's own for its architecture; for another, the same compiler with the
    vmlinux.h of a pinned kernel of `arch` (`ebpf_hub.build.crossbtf`)."""
    from ebpf_hub.build.crossbtf import kernel_btf

    host = toolchain()
    if arch == host.arch:
        return host
    if arch not in TARGET_ARCH:
        raise HubError(
            f"cannot build for {arch}", hint=f"use one of {', '.join(sorted(TARGET_ARCH))}"
        )
    btf = kernel_btf(arch)
    return replace(
        host,
        vmlinux_dir=_header_from(btf.path, btf.sha256),
        vmlinux_btf_sha256=btf.sha256,
        arch=arch,
        vmlinux_source=btf.source,
    )
