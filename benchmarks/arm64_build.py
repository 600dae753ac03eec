"""What arm64 builds cost: the arm64 vmlinux.h read out of a guest, and the seed catalogue
built for both architectures.

1. The pinned arm64 kernel's BTF, cold: the kernel booted under qemu's software emulation
   with the guest that prints /sys/kernel/btf/vmlinux as base64 on its console. It runs in a
   scratch cache holding a copy of the kernel and of apt's lists from the user's cache (run
   `ebpf-hub build` or `ebpf-hub matrix --arch arm64` once to fill it), so only busybox's .deb
   is downloaded; then warm, from the cache (the BTF hashed again).
2. The toolchains: the host's (vmlinux.h from the running kernel) and arm64's (vmlinux.h from
   that BTF), bpftool writing each header.
3. Every seed package's newest version built for x86_64 and for aarch64, per package.

    .venv/bin/python benchmarks/arm64_build.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ebpf_hub.build.crossbtf import GUEST_SUITE, HEADER_KERNELS, kernel_btf
from ebpf_hub.build.package import build_sources
from ebpf_hub.build.source import checkout_sources
from ebpf_hub.build.toolchain import toolchain, toolchain_for
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.matrix.kernels import cached_image
from ebpf_hub.paths import cache_dir

REPO = Path(__file__).resolve().parent.parent
ARCHES = ("x86_64", "aarch64")


def fill_scratch_cache(home: Path) -> None:
    """Copy the pinned kernel and apt's lists of the guest suite from the user's cache."""
    real = cache_dir()
    spec = HEADER_KERNELS["aarch64"]
    image = cached_image(spec)
    if image is None:
        raise SystemExit("the arm64 kernel is not cached: run `ebpf-hub build execsnoop` once")
    record = real / "kernels" / spec.debian_arch / f"{spec.package}_{spec.version}.json"
    for path in (record, image.path, *(module for _, module in image.modules)):
        copy = home / "cache" / path.relative_to(real)
        copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(path, copy)
    apt = Path("matrix", "apt", f"{GUEST_SUITE}-{spec.debian_arch}")
    shutil.copytree(real / apt, home / "cache" / apt)


def timed(what: str, action: Callable[[], object]) -> None:
    started = time.monotonic()
    action()
    print(f"{what:<48} {time.monotonic() - started:7.2f} s")


def main() -> None:
    config = load_config(REPO)
    packages = validate(config, sorted(config.packages_dir.glob("*.yaml"))).packages
    with tempfile.TemporaryDirectory(prefix="bench-arm64-") as scratch:
        home = Path(scratch) / "home"
        fill_scratch_cache(home)
        os.environ["EBPF_HUB_HOME"] = str(home)
        timed("arm64 BTF, cold (boot, dump, decode, cache)", lambda: kernel_btf("aarch64"))
        timed("arm64 BTF, warm (cache, hashed again)", lambda: kernel_btf("aarch64"))
        timed("host toolchain (vmlinux.h from /sys)", toolchain)
        timed("arm64 toolchain (vmlinux.h from the BTF)", lambda: toolchain_for("aarch64"))
        print(f"\n{'package':<16} {'x86_64':>9} {'aarch64':>9}")
        totals = dict.fromkeys(ARCHES, 0.0)
        for package in packages:
            version = package.versions[-1]
            source = checkout_sources(REPO, package, version, Path(scratch) / package.name)
            seconds = {}
            for arch in ARCHES:
                started = time.monotonic()
                out = Path(scratch) / "out" / package.name / arch
                build_sources(source, package, version, out, arch=arch)
                seconds[arch] = time.monotonic() - started
                totals[arch] += seconds[arch]
            print(f"{package.name:<16} {seconds['x86_64']:8.2f}s {seconds['aarch64']:8.2f}s")
        print(f"{'catalogue':<16} {totals['x86_64']:8.2f}s {totals['aarch64']:8.2f}s")


if __name__ == "__main__":
    main()
