"""The runner's errors: each a HubError, so the CLI prints it as one line and exits non-zero."""

from __future__ import annotations

import ctypes
import errno

from ebpf_hub.errors import HubError
from ebpf_hub.run.libbpf import describe_error


class LoaderError(HubError):
    """An object could not be opened, loaded, attached or read; the message says why."""


class LoadError(LoaderError):
    """libbpf or the kernel refused the object; the message ends with the relevant log tail."""


class AttachError(LoaderError):
    """A program cannot be attached: a missing target, or the kernel lacks the hook."""


class ParamError(HubError):
    """A parameter given on the command line is unknown or its value does not fit its type."""


class PreflightError(HubError):
    """The host lacks something the package needs; nothing was loaded."""


def check_int(ret: int, what: str) -> int:
    """libbpf's int results: non-negative, or a negative errno."""
    if ret < 0:
        raise LoaderError(f"{what}: {describe_error(-ret)}")
    return ret


def check_ptr(ptr: int | None, what: str) -> int:
    """libbpf's pointer results: non-NULL, or NULL with errno set."""
    if not ptr:
        raise LoaderError(f"{what}: {describe_error(ctypes.get_errno() or errno.EINVAL)}")
    return ptr
