"""The build's smoke test: each object must pass the verifier of this kernel.

Only loaded, never attached, so it needs no interface, binary or traffic; the programs and
maps are gone when the object closes.
"""

from __future__ import annotations

from ebpf_hub.build.package import BuiltVersion
from ebpf_hub.errors import HubError
from ebpf_hub.run.loader import AttachTargets, LoadedObject, LoaderError

# Loading plans attachments; these placeholders satisfy the plan of XDP, TC and cgroup programs.
_PLACEHOLDER_TARGETS = AttachTargets(iface="lo", cgroup="/sys/fs/cgroup")


def load_test(built: BuiltVersion) -> None:
    """Load every object of `built` into the kernel and unload it; raise if the kernel refuses."""
    label = f"{built.package.name}@{built.version.version}"
    for path in built.files:
        if not path.name.endswith(".bpf.o"):
            continue
        try:
            with LoadedObject.open(path, targets=_PLACEHOLDER_TARGETS) as loaded:
                loaded.load()
        except LoaderError as exc:
            raise HubError(f"{label}: {path.name} does not load into this kernel: {exc}") from None
