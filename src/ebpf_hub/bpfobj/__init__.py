"""Read a compiled CO-RE BPF object without loading it, in pure Python.

The builder uses :func:`inspect_object` to check a package against its declarations and to
write the artifact config (``ObjectInfo.to_json()``); the runner uses the object's BTF to
decode ring-buffer events and map values (:func:`compile_decoder`); both judge what an
object can do to the system with :func:`capabilities`.
"""

from .btf import VMLINUX_BTF, Btf
from .capabilities import (
    DANGEROUS_CALLS,
    DANGEROUS_HELPERS,
    DANGEROUS_KFUNCS,
    Capabilities,
    Danger,
    capabilities,
)
from .decode import Decoder, compile_decoder, decode
from .errors import ObjectError
from .helpers import HELPER_NAMES
from .inspect import ObjectInfo, inspect_object
from .layout import Field, Layout, build_layout, describe_type
from .maps import MapInfo
from .params import Parameter
from .programs import ProgramInfo

__all__ = [
    "DANGEROUS_CALLS",
    "DANGEROUS_HELPERS",
    "DANGEROUS_KFUNCS",
    "HELPER_NAMES",
    "VMLINUX_BTF",
    "Btf",
    "Capabilities",
    "Danger",
    "Decoder",
    "Field",
    "Layout",
    "MapInfo",
    "ObjectError",
    "ObjectInfo",
    "Parameter",
    "ProgramInfo",
    "build_layout",
    "capabilities",
    "compile_decoder",
    "decode",
    "describe_type",
    "inspect_object",
]
