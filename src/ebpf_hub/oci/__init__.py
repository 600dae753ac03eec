"""OCI artifacts for eBPF Hub: references, stores (registry or layout), push, pull, signatures.

The public API is re-exported here; each job lives in its own module:
``reference`` parses, ``digest`` verifies, ``layout`` and ``registry`` are the two stores behind
the ``store.Store`` protocol, ``artifact`` builds and reads package artifacts, ``copy`` moves
them between stores, ``keys`` and ``signing`` handle cosign-compatible signatures.
"""

from ebpf_hub.oci.artifact import (
    ARTIFACT_TYPE,
    BPF_OBJECT_MEDIA_TYPE,
    CONFIG_MEDIA_TYPE,
    BuiltArtifact,
    PulledArtifact,
    PushResult,
    build_artifact,
    push_artifact,
    read_artifact,
)
from ebpf_hub.oci.auth import Credentials, find_credentials
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.errors import (
    AuthenticationError,
    IntegrityError,
    InvalidReferenceError,
    ManifestError,
    NotFoundError,
    OCIError,
    RegistryError,
    RegistryUnavailableError,
    SignatureError,
    SigningKeyError,
    TagConflictError,
    UnsafeArtifactError,
)
from ebpf_hub.oci.keys import KeyPair, generate_key_pair, load_private_key, load_public_key
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.reference import LayoutReference, Reference, RegistryReference, parse_reference
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import sign, signature_tag, verify
from ebpf_hub.oci.store import Store, open_store

__all__ = [
    "ARTIFACT_TYPE",
    "BPF_OBJECT_MEDIA_TYPE",
    "CONFIG_MEDIA_TYPE",
    "AuthenticationError",
    "BuiltArtifact",
    "Credentials",
    "IntegrityError",
    "InvalidReferenceError",
    "KeyPair",
    "LayoutReference",
    "LayoutStore",
    "ManifestError",
    "NotFoundError",
    "OCIError",
    "PulledArtifact",
    "PushResult",
    "Reference",
    "RegistryError",
    "RegistryReference",
    "RegistryStore",
    "RegistryUnavailableError",
    "SignatureError",
    "SigningKeyError",
    "Store",
    "TagConflictError",
    "UnsafeArtifactError",
    "build_artifact",
    "copy_tag",
    "find_credentials",
    "generate_key_pair",
    "load_private_key",
    "load_public_key",
    "open_store",
    "parse_reference",
    "push_artifact",
    "read_artifact",
    "sign",
    "signature_tag",
    "verify",
]
