"""The compiler, its fixed flags, and the headers every package builds against."""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file, write_atomic
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")

# __TARGET_ARCH_* selects the register layout libbpf's PT_REGS macros read (uprobe arguments).
TARGET_ARCH = {"x86_64": "x86", "aarch64": "arm64"}

# Fixed flags: -g gives the BTF that CO-RE needs (DWARF is stripped afterwards), and paths are
# mapped to fixed names so that the objects do not depend on where the build ran.
BASE_FLAGS = ("-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-fno-ident")

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

    def flags(self, source_dir: Path) -> list[str]:
        """Every flag of a compile in `source_dir`; equal inputs give byte-equal objects."""
        return [
            *BASE_FLAGS,
            f"-D__TARGET_ARCH_{TARGET_ARCH[self.arch]}",
            f"-I{self.vmlinux_dir}",
            f"-I{self.include_dir}",
            f"-fdebug-prefix-map={source_dir}=/src",
            f"-fdebug-prefix-map={self.vmlinux_dir}=/include",
            f"-fdebug-prefix-map={self.include_dir}=/include",
            "-fdebug-compilation-dir=/src",
        ]


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
    include = Path(str(resources.files("ebpf_hub").joinpath("build", "include")))
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
    directory = private_dir(cache_dir(), "vmlinux", btf_sha[:16])
    header = directory / "vmlinux.h"
    if not is_regular_file(header):
        bpftool = _tool("bpftool")
        dump = subprocess.run(
            [bpftool, "btf", "dump", "file", str(VMLINUX_BTF), "format", "c"],
            capture_output=True,
            check=False,
        )
        if dump.returncode != 0:
            raise HubError(
                f"bpftool could not dump {VMLINUX_BTF}: "
                f"{dump.stderr.decode(errors='replace').strip()}"
            )
        write_atomic(header, dump.stdout)
    return btf_sha, directory
