"""The one exception of this package."""

from ebpf_hub.errors import HubError


class ObjectError(HubError):
    """A BPF object (or a BTF blob, or a record to decode) cannot be read.

    The message is a single line meant for the user; the parser libraries underneath never
    leak through, so callers can print ``str(err)`` and exit.
    """
