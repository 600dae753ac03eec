"""Read a compiled CO-RE BPF object without loading it, in pure Python.

The builder uses :func:`.inspect.inspect_object` to check a package against its declarations
and to write the artifact config; the runner uses the object's BTF to decode ring-buffer
events and map values (:func:`.decode.compile_decoder`); both, and the client at install,
judge what an object can do to the system with :mod:`.capabilities`.

The names below stay importable from the package (the Python loaders that `ebpf-hub init`
writes use them), but each module loads on first use: `install` reads only an object's calls
(:mod:`.objcalls`), and importing every module here (BTF types, layouts, decoders) up front
would cost each install more than reading its objects does. The project's own code imports
from the modules themselves.
"""

from __future__ import annotations

import importlib
from typing import Any

# Functions named like their module (`capabilities`, `decode`) are left out: once the module
# loads, the package's attribute of that name is the module.
_EXPORTS = {
    "VMLINUX_BTF": "btf",
    "Btf": "btf",
    "DANGEROUS_CALLS": "capabilities",
    "DANGEROUS_HELPERS": "capabilities",
    "DANGEROUS_KFUNCS": "capabilities",
    "Capabilities": "capabilities",
    "Danger": "capabilities",
    "Decoder": "decode",
    "compile_decoder": "decode",
    "ObjectError": "errors",
    "HELPER_NAMES": "helpers",
    "ObjectInfo": "inspect",
    "inspect_object": "inspect",
    "Field": "layout",
    "Layout": "layout",
    "build_layout": "layout",
    "describe_type": "layout",
    "MapInfo": "maps",
    "Parameter": "params",
    "ProgramInfo": "programs",
}


def __getattr__(name: str) -> Any:
    """Load the module that defines ``name`` when someone first asks for it."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
