"""The hub's kernel matrix: the `matrix:` section of index/hub.yaml.

Each kernel is pinned by its Debian package name and version, with the suite that serves it:
the archive's signed Release and Packages files then give the exact bytes (apt checks the
signature and the .deb's hash), so two machines test against the same kernel. The guest's own
programs (busybox, the libbpf the loader is linked with) come from `guest_suite`, for every
architecture alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HUB_CONFIG_PATH
from ebpf_hub.index.document import DocumentError, load_document

# The architectures a guest can be booted for: ours (as `uname -m` and the CLI say it on
# x86_64, as Debian and the CLI say it on arm64) -> Debian's name.
DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
_WORD = re.compile(r"^[a-z0-9][a-z0-9._+~:-]*$")  # a Debian package, version, suite or arch
_KERNEL_FIELDS = ("name", "arch", "suite", "package", "version")
SECTION = "matrix"


@dataclass(frozen=True)
class KernelSpec:
    """One kernel of the matrix: `name` is what `--kernels` selects ("5.10"), unique per arch."""

    name: str
    arch: str
    suite: str
    package: str
    version: str
    # `btf: false` in hub.yaml: the guest hides the kernel's BTF from user space, so libbpf
    # finds none, as on a kernel built without CONFIG_DEBUG_INFO_BTF (Debian's all have it).
    btf: bool = True

    @property
    def label(self) -> str:
        return f"{self.arch}/{self.name}"

    @property
    def debian_arch(self) -> str:
        return DEBIAN_ARCH[self.arch]


@dataclass(frozen=True)
class MatrixConfig:
    guest_suite: str
    kernels: tuple[KernelSpec, ...]

    def select(self, names: Sequence[str] = (), arches: Sequence[str] = ()) -> list[KernelSpec]:
        """The kernels named (all without names) of the architectures given (all without)."""
        for arch in arches:
            if arch not in DEBIAN_ARCH:
                raise HubError(
                    f"--arch {arch!r}: not an architecture of the matrix",
                    hint=f"use one of {', '.join(DEBIAN_ARCH)}",
                )
        known = {kernel.name for kernel in self.kernels}
        for name in names:
            if name not in known:
                raise HubError(
                    f"--kernels {name!r}: no such kernel in {HUB_CONFIG_PATH}'s matrix",
                    hint=f"use some of {', '.join(sorted(known))}",
                )
        chosen = [
            kernel
            for kernel in self.kernels
            if (not names or kernel.name in names) and (not arches or kernel.arch in arches)
        ]
        if not chosen:
            raise HubError(
                "no kernel of the matrix matches --kernels and --arch",
                hint="run `ebpf-hub matrix --list` to see them",
            )
        return chosen


def _field(where: str, data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not _WORD.match(value):
        raise HubError(
            f"{HUB_CONFIG_PATH}: {where}.{key}: missing or malformed ({value!r})",
            hint="give lower-case letters, digits and . _ + ~ : - only",
        )
    return value


def parse_matrix(data: Any) -> MatrixConfig:
    """The `matrix:` mapping of hub.yaml, checked field by field."""
    if not isinstance(data, dict) or not isinstance(data.get("kernels"), list):
        raise HubError(
            f"{HUB_CONFIG_PATH}: {SECTION}: needs guest_suite and a list of kernels",
            hint="see the matrix section of the hub's own index/hub.yaml",
        )
    kernels: list[KernelSpec] = []
    for number, entry in enumerate(data["kernels"]):
        where = f"{SECTION}.kernels[{number}]"
        name, arch, suite, package, version = (_field(where, entry, k) for k in _KERNEL_FIELDS)
        btf = entry.get("btf", True)
        if not isinstance(btf, bool):
            raise HubError(
                f"{HUB_CONFIG_PATH}: {where}.btf: {btf!r} is not true or false",
                hint="leave it out (true), or false to boot this kernel with its BTF hidden",
            )
        kernel = KernelSpec(name, arch, suite, package, version, btf=btf)
        if kernel.arch not in DEBIAN_ARCH:
            raise HubError(
                f"{HUB_CONFIG_PATH}: {where}.arch: {kernel.arch!r} is not supported",
                hint=f"use one of {', '.join(DEBIAN_ARCH)}",
            )
        if any(other.label == kernel.label for other in kernels):
            raise HubError(
                f"{HUB_CONFIG_PATH}: {where}.name: {kernel.label} is listed twice",
                hint="give each kernel of an architecture its own name",
            )
        kernels.append(kernel)
    return MatrixConfig(_field(SECTION, data, "guest_suite"), tuple(kernels))


def load_matrix(root: Path) -> MatrixConfig:
    """The matrix of the hub checkout at `root`."""
    try:
        document = load_document(root / HUB_CONFIG_PATH, str(HUB_CONFIG_PATH)).data
    except DocumentError as exc:
        raise HubError(str(exc)) from None
    if not isinstance(document, dict) or SECTION not in document:
        raise HubError(
            f"{HUB_CONFIG_PATH}: no {SECTION} section: this hub names no kernels to test on",
            hint="add one like the hub's own (kernels pinned by Debian package and version)",
        )
    return parse_matrix(document[SECTION])
