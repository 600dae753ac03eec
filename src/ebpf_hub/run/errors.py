"""The runner's errors: each a HubError, so the CLI prints it as one line and exits non-zero.

Nothing here loads libbpf (`check_int` and `check_ptr` live beside its binding): modules that
only read the host, and `doctor` reporting that libbpf is missing, import these freely.
"""

from __future__ import annotations

from ebpf_hub.errors import HubError


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
