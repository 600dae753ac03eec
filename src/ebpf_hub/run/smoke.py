"""The build's smoke test (`--load-test`): each object must pass the verifier of this kernel.

Only loaded, never attached, so it needs no interface, binary or traffic; the programs and
maps are gone when the object closes. It lives with the loader it uses rather than with the
build, so that building does not depend on running (`run` compiles a source directory with
`build`; see tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.run.loader import AttachTargets, LoadedObject, LoaderError

# Loading plans attachments; these placeholders satisfy the plan of XDP, TC and cgroup programs.
_PLACEHOLDER_TARGETS = AttachTargets(iface="lo", cgroup="/sys/fs/cgroup")


def load_test(label: str, files: Iterable[Path]) -> None:
    """Load every object among `files` into the kernel and unload it; raise if the kernel
    refuses one. `label` (NAME@VERSION) names the version in the error."""
    for path in files:
        if not path.name.endswith(".bpf.o"):
            continue
        try:
            with LoadedObject.open(path, targets=_PLACEHOLDER_TARGETS) as loaded:
                loaded.load()
        except LoaderError as exc:
            raise HubError(f"{label}: {path.name} does not load into this kernel: {exc}") from None
