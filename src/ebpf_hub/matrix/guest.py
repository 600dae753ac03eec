"""The matrix guest: an initramfs with busybox, the loader and the objects under test.

Every program of the guest comes from Debian packages of the matrix's `guest_suite` for the
guest's architecture (busybox-static; libbpf, libelf and zlib to link the loader against),
fetched like the kernels, so x86_64 and arm64 guests are made the same way. The loader
(`guest/loader.c`) is compiled statically, with the host's gcc or its cross compiler, once per
set of inputs; the guest then needs no shared library and no file system but the initramfs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file, open_regular
from ebpf_hub.matrix import cpio
from ebpf_hub.matrix.config import DEBIAN_ARCH
from ebpf_hub.matrix.debian import open_archive, scratch
from ebpf_hub.matrix.kernels import apt_root
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir

# What the guest is made of, from the guest suite.
GUEST_PACKAGES = ("busybox-static", "libbpf-dev", "libelf-dev", "zlib1g-dev")
# The C compiler that builds the loader for each guest architecture, and where its target's
# libraries live in a Debian tree (multiarch).
COMPILERS = {"x86_64": "x86_64-linux-gnu-gcc", "arm64": "aarch64-linux-gnu-gcc"}
TRIPLETS = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
COMPILER_PACKAGES = {"x86_64": "gcc", "arm64": "gcc-aarch64-linux-gnu"}
CONSOLE = (5, 1)  # /dev/console: the kernel opens it as the first process's stdio


@dataclass(frozen=True)
class GuestTools:
    """The guest's two programs for one architecture, built and cached."""

    arch: str
    busybox: Path
    loader: Path


@dataclass(frozen=True)
class GuestObject:
    """One object to test: `slot` is its directory in the guest (`/objects/<slot>/<name>`)."""

    slot: str
    name: str
    data: bytes

    @property
    def guest_path(self) -> str:
        return f"/objects/{self.slot}/{self.name}"


def _guest_file(name: str) -> bytes:
    return (resources.files("ebpf_hub.matrix") / "guest" / name).read_bytes()


def guest_tools(arch: str, suite: str) -> GuestTools:
    """busybox and the loader for `arch`, from the cache or built now."""
    compiler = shutil.which(COMPILERS[arch])
    if compiler is None:
        raise HubError(
            f"{COMPILERS[arch]} not found: it builds the matrix guest's loader for {arch}",
            hint=f"install {COMPILER_PACKAGES[arch]} (scripts/bootstrap --dev does)",
        )
    root = private_dir(cache_dir(), "matrix", "guest")
    with (
        open_archive(apt_root(), suite, DEBIAN_ARCH[arch]) as archive,
        scratch(root) as work,
    ):
        entries = [archive.index_entry(package) for package in GUEST_PACKAGES]
        key = hashlib.sha256(
            repr((arch, _guest_file("loader.c"), entries, _version(compiler))).encode()
        ).hexdigest()[:24]
        done = GuestTools(arch, root / key / "busybox", root / key / "loader")
        if is_regular_file(done.busybox) and is_regular_file(done.loader):
            return done
        tree = work / "tree"
        for package, (version, _sha) in zip(GUEST_PACKAGES, entries):
            deb = archive.download(package, version, work)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
        staged = work / "out"
        staged.mkdir()
        _compile_loader(compiler, tree, TRIPLETS[arch], staged / "loader")
        shutil.copyfile(_busybox_in(tree), staged / "busybox")
        target = root / key
        shutil.rmtree(target, ignore_errors=True)
        staged.replace(target)
    return done


def _version(compiler: str) -> str:
    return subprocess.run(
        [compiler, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]


def _busybox_in(tree: Path) -> Path:
    for candidate in (tree / "bin" / "busybox", tree / "usr" / "bin" / "busybox"):
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    raise HubError("busybox-static holds no bin/busybox", hint="set another matrix guest_suite")


def _compile_loader(compiler: str, tree: Path, triplet: str, out: Path) -> None:
    source = Path(str(resources.files("ebpf_hub.matrix") / "guest" / "loader.c"))
    built = subprocess.run(
        [
            *(compiler, "-O2", "-Wall", "-static", "-o", str(out), str(source)),
            f"-I{tree / 'usr' / 'include'}",
            f"-L{tree / 'usr' / 'lib' / triplet}",
            *("-lbpf", "-lelf", "-lz"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise HubError(
            f"the matrix guest's loader does not build for {triplet}: "
            f"{built.stderr.strip()[-600:]}",
            hint="check the matrix guest_suite's libbpf-dev",
        )


def _read(path: Path) -> bytes:
    """A file of the cache, never through a link."""
    with open_regular(path) as stream:
        return stream.read()


def initramfs(
    tools: GuestTools, objects: Sequence[GuestObject], modules: Sequence[tuple[str, Path]] = ()
) -> bytes:
    """The guest's initramfs, with the kernel `modules` its init loads (`name.ko`, path):
    equal inputs give equal bytes."""
    entries = [
        cpio.directory("bin"),
        cpio.regular("bin/busybox", _read(tools.busybox), executable=True),
        cpio.directory("dev"),
        cpio.char_device("dev/console", *CONSOLE),
        cpio.regular("init", _guest_file("init"), executable=True),
        cpio.regular("loader", _read(tools.loader), executable=True),
        *(cpio.directory(name) for name in ("proc", "sys", "modules", "objects")),
        *(cpio.regular(f"modules/{name}", _read(path)) for name, path in sorted(modules)),
    ]
    for slot in sorted({item.slot for item in objects}):
        entries.append(cpio.directory(f"objects/{slot}"))
    for item in sorted(objects, key=lambda item: item.guest_path):
        entries.append(cpio.regular(item.guest_path.lstrip("/"), item.data))
    return cpio.archive(entries)
