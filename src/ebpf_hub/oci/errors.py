"""Errors raised by the OCI layer.

Every error is an :class:`OCIError`, so a caller (the CLI, the publisher) can catch one type and
print its message, which is a single line that names the reference involved and how to fix it.
"""

from ebpf_hub.errors import HubError


class OCIError(HubError):
    """Base class of every error raised by :mod:`ebpf_hub.oci`."""


class InvalidReferenceError(OCIError):
    """A reference or digest string does not have the documented syntax."""


class NotFoundError(OCIError):
    """The manifest, tag or blob does not exist in the store."""


class IntegrityError(OCIError):
    """Content does not match its digest or size, or exceeds a size limit."""


class UnsafeArtifactError(OCIError):
    """An artifact is well formed but must not be used (unknown types, unsafe file names)."""


class TagConflictError(OCIError):
    """A tag already names different content and published versions are immutable."""


class AuthenticationError(OCIError):
    """The registry asks for credentials, or refused the ones given."""


class RegistryError(OCIError):
    """The registry failed or could not be reached."""


class SignatureError(OCIError):
    """A signature is missing, malformed, or does not verify."""


class SigningKeyError(OCIError):
    """A signing or verification key cannot be loaded."""


class ManifestError(OCIError):
    """A manifest or layout index is malformed or of an unsupported type."""


class RegistryUnavailableError(RegistryError):
    """The registry is unreachable or overloaded (connection failure, 429, 5xx): try again later.

    Kept apart from :class:`RegistryError` because these are the failures worth retrying.
    """


class RepeatableError(RegistryUnavailableError):
    """A transient failure the HTTP client did not retry itself, so the whole operation may.

    A body that broke after the client returned the answer, or a write (POST, PUT) that
    reached the registry and failed: :meth:`~ebpf_hub.oci.transport.Transport.retrying`
    repeats the operation for these only, as the client already repeated the others
    (`ebpf_hub.httpclient.RetryPolicy`).
    """
