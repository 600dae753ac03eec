"""Kernel images for the matrix: fetched once from Debian, cached by digest, checked on use.

A kernel package is downloaded (`ebpf_hub.matrix.debian`: apt checks the signature chain and
the .deb's hash), its image (`boot/vmlinuz-*`) and the few modules the guest loads are
extracted to `kernels/sha256/<hex>` in the cache, and `kernels/<arch>/<package>_<version>.json`
records their digests. Every use hashes them again: a cached kernel that changed since (a bad
disk, a hand edit) is refused, not booted.
"""

from __future__ import annotations

import json
import lzma
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import atomic_writer, is_regular_file, open_regular, write_atomic
from ebpf_hub.matrix.config import KernelSpec
from ebpf_hub.matrix.debian import open_archive, scratch, sha256_file, verify_sha256
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir

# Where Debian puts the image: boot/ up to 6.x, the modules directory in newer packages.
_VMLINUZ = re.compile(r"^\./(?:boot/vmlinuz-[^/]+|usr/lib/modules/[^/]+/vmlinuz)$")
# The modules TC programs need where the kernel has no tcx (before 6.6) and builds them as
# modules (Debian's cloud kernels): the clsact qdisc and the BPF classifier. Neither depends
# on another module. Newer packages compress them (xz).
_MODULE = re.compile(
    r"^\./(?:usr/)?lib/modules/[^/]+/kernel/net/sched/(sch_ingress|cls_bpf)\.ko(\.xz)?$"
)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
IMAGE = "vmlinuz"


@dataclass(frozen=True)
class KernelImage:
    """A verified kernel: its image, and the guest's modules by name (`cls_bpf.ko`)."""

    spec: KernelSpec
    path: Path
    sha256: str
    modules: tuple[tuple[str, Path], ...]


def kernels_root() -> Path:
    return private_dir(cache_dir(), "kernels")


def apt_root() -> Path:
    """apt's state for the matrix's suites (package lists, partial downloads)."""
    return private_dir(cache_dir(), "matrix", "apt")


def _record(spec: KernelSpec) -> Path:
    directory = private_dir(kernels_root(), spec.debian_arch)
    return directory / f"{spec.package}_{spec.version}.json"


def cached_image(spec: KernelSpec) -> KernelImage | None:
    """The cached kernel of `spec`, every file's digest checked; None when never fetched."""
    record = _record(spec)
    if not is_regular_file(record):
        return None
    digests = _read_record(record)
    blobs = private_dir(kernels_root(), "sha256")
    if not all(is_regular_file(blobs / digest) for digest in digests.values()):
        return None
    what = f"kernel {spec.label} ({spec.package} {spec.version})"
    for digest in digests.values():
        verify_sha256(blobs / digest, digest, what)
    modules = tuple((name, blobs / d) for name, d in sorted(digests.items()) if name != IMAGE)
    return KernelImage(spec, blobs / digests[IMAGE], digests[IMAGE], modules)


def _read_record(record: Path) -> dict[str, str]:
    try:
        with open_regular(record) as stream:
            digests = json.loads(stream.read())
    except ValueError:
        digests = None
    if (
        not isinstance(digests, dict)
        or IMAGE not in digests
        or not all(isinstance(d, str) and _DIGEST.match(d) for d in digests.values())
    ):
        raise HubError(
            f"{record}: not a kernel digest record", hint=f"delete {record} to fetch it again"
        )
    return digests


def kernel_image(spec: KernelSpec) -> KernelImage:
    """The kernel of `spec`: from the cache, else fetched from Debian and cached."""
    if cached := cached_image(spec):
        return cached
    root = kernels_root()
    with (
        open_archive(apt_root(), spec.suite, spec.debian_arch) as archive,
        scratch(root) as work,
    ):
        deb = archive.download(spec.package, spec.version, work)
        files = _extract(deb, work / "files", spec)
        digests = {}
        for name, path in files.items():
            digests[name] = sha256_file(path)
            path.replace(private_dir(root, "sha256") / digests[name])
    write_atomic(_record(spec), json.dumps(digests, sort_keys=True).encode())
    found = cached_image(spec)
    if found is None:
        raise HubError(f"{_record(spec)}: the kernel just cached is gone", hint="run again")
    return found


def _extract(deb: Path, into: Path, spec: KernelSpec) -> dict[str, Path]:
    """The image and the guest's modules inside `deb`, by name, written under `into`
    (dpkg-deb reads the .deb, Python's tarfile its data: nothing else reaches the disk)."""
    into.mkdir()
    found: dict[str, Path] = {}
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as unpack:
        stream = unpack.stdout
        if stream is None:
            raise HubError("dpkg-deb gave no output")
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                source = tar.extractfile(member) if member.isfile() else None
                module = _MODULE.match(member.name)
                if source is None or not (module or _VMLINUZ.match(member.name)):
                    continue
                name = f"{module.group(1)}.ko" if module else IMAGE
                found[name] = _write(source, into / name, packed=bool(module and module.group(2)))
        stream.read()  # the archive's padding: dpkg-deb exits 0 only when all is read
    if unpack.returncode != 0 or IMAGE not in found:
        raise HubError(
            f"{spec.package} {spec.version}: no kernel image (boot/vmlinuz-*) in the package",
            hint="pin the package that holds vmlinuz (linux-image-*, or linux-binary-* since 7.x)",
        )
    return found


def _write(source: IO[bytes], target: Path, packed: bool) -> Path:
    """`source` into `target`, unpacked first if `packed` (xz): busybox's insmod reads only
    plain modules."""
    with atomic_writer(target, durable=False) as out:
        if packed:
            with lzma.open(source) as plain:
                shutil.copyfileobj(plain, out, 1 << 20)
        else:
            shutil.copyfileobj(source, out, 1 << 20)
    return target
