"""Signed statements about an artifact, attached to it as OCI referrers: in-toto statements
in DSSE envelopes (the layout cosign 3 writes for `cosign attest`), found again by predicate
type and verified against the hub's key. The SLSA provenance (`ebpf_hub.oci.provenance`) and
the kernel-matrix results (`ebpf_hub.publish.matrixstep`) are two such statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci import dsse
from ebpf_hub.oci.errors import IntegrityError, SignatureError
from ebpf_hub.oci.manifest import Descriptor
from ebpf_hub.oci.referrers import Attached, attach, find_attached
from ebpf_hub.oci.store import Store, read_blob


def attach_statement(
    store: Store,
    subject: Descriptor,
    predicate_type: str,
    predicate: Mapping[str, Any],
    key: ec.EllipticCurvePrivateKey,
    *,
    name: str | None = None,
) -> bool:
    """Sign a statement of `predicate_type` about `subject` and attach it; False when one by
    this key saying the same is attached already (publishing again attaches nothing)."""
    if predicate in verified_predicates(store, subject.digest, predicate_type, key.public_key()):
        return False
    statement = dsse.Statement(subject.digest, predicate_type, predicate, name=name)
    attach(
        store,
        subject,
        dsse.BUNDLE_MEDIA_TYPE,
        (dsse.BUNDLE_MEDIA_TYPE, dsse.sign_bundle(statement, key)),
        {dsse.CONTENT_ANNOTATION: "dsse-envelope", dsse.PREDICATE_ANNOTATION: predicate_type},
    )
    return True


def attached_statements(store: Store, digest: str, predicate_type: str) -> list[Attached]:
    """The referrers of `digest` that say they hold a statement of `predicate_type`, none of
    them verified yet: what `verified_predicates` checks, and what tells a reader holding no
    key that there is something to check."""
    return [
        attached
        for attached in find_attached(store, digest, dsse.BUNDLE_MEDIA_TYPE)
        if attached.manifest.annotations.get(dsse.PREDICATE_ANNOTATION) == predicate_type
    ]


def verified_predicates(
    store: Store,
    digest: str,
    predicate_type: str,
    public_key: ec.EllipticCurvePublicKey,
    problems: list[str] | None = None,
    *,
    what: str = "statement",
) -> list[Mapping[str, Any]]:
    """The predicate of every statement of `predicate_type` attached to `digest`, signed by
    `public_key` and about exactly `digest`, in the order attached; why each other one was
    refused goes to `problems`, naming the statement as `what` (e.g. "provenance")."""
    found: list[Mapping[str, Any]] = []
    for attached in attached_statements(store, digest, predicate_type):
        where = f"{store.name}@{attached.digest}"
        try:
            if len(attached.manifest.layers) != 1:
                raise SignatureError(f"{where}: a {what} referrer must hold one bundle")
            blob = read_blob(store, attached.manifest.layers[0], dsse.BUNDLE_LIMIT)
            statement = dsse.open_bundle(blob, public_key, where)
            if statement.predicate_type != predicate_type:
                raise SignatureError(f"{where}: a statement of type {statement.predicate_type!r}")
            if statement.digest != digest:
                raise SignatureError(
                    f"{where}: the {what} is about {statement.digest}, not {digest}"
                )
            found.append(statement.predicate)
        except (SignatureError, IntegrityError) as exc:
            if problems is not None:
                problems.append(str(exc))
    return found
