"""In-toto statements in DSSE envelopes, wrapped in Sigstore bundles as cosign 3 stores them.

Signing and the envelope come from securesystemslib (already here through python-tuf): its
`dsse.Envelope` computes the pre-authentication encoding and its `CryptoSigner` signs it with
the hub's ECDSA P-256 key, the scheme cosign's key pairs use. The bundle around the envelope
(media type ``application/vnd.dev.sigstore.bundle.v0.3+json``) holds no certificate and no
transparency-log entry: the verifier brings the hub's public key, as ``cosign verify --key``.

The statement is a handful of JSON fields, built here rather than with `in-toto-attestation`
(protobuf bindings, unreleased since 2023) or `in-toto` (layouts and links, not Statement v1).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey

from ebpf_hub.oci.digest import check_digest
from ebpf_hub.oci.errors import SignatureError
from ebpf_hub.oci.manifest import canonical_json

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
BUNDLE_LIMIT = 1024 * 1024
# The manifest annotations cosign's bundle spec defines, so its tools can tell them apart.
CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"


@dataclass(frozen=True)
class Statement:
    """An in-toto Statement v1 about one artifact (one subject, named by its sha256)."""

    digest: str
    predicate_type: str
    predicate: Mapping[str, Any]
    name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        subject: dict[str, Any] = {"digest": {"sha256": check_digest(self.digest)}}
        if self.name is not None:
            subject["name"] = self.name
        if self.annotations:
            subject["annotations"] = dict(self.annotations)
        return canonical_json(
            {
                "_type": STATEMENT_TYPE,
                "subject": [subject],
                "predicateType": self.predicate_type,
                "predicate": dict(self.predicate),
            }
        )

    @classmethod
    def parse(cls, payload: bytes, where: str) -> Statement:
        """A signed statement's payload, refused unless it has one sha256 subject."""
        try:
            value = json.loads(payload)
            if value["_type"] != STATEMENT_TYPE:
                raise ValueError(f"_type is {value['_type']!r}")
            (subject,) = value["subject"]
            digest = "sha256:" + subject["digest"]["sha256"]
            check_digest(digest)
            annotations = subject.get("annotations") or {}
            predicate = value["predicate"]
            if not isinstance(annotations, dict) or not isinstance(predicate, dict):
                raise ValueError("annotations and predicate must be objects")
            name = subject.get("name")
            return cls(
                digest,
                str(value["predicateType"]),
                predicate,
                name if isinstance(name, str) else None,
                {str(k): str(v) for k, v in annotations.items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError(
                f"{where}: the signed payload is not an in-toto statement about one artifact "
                f"({exc}); refusing it"
            ) from None


class WrongKeyError(SignatureError):
    """No signature of an envelope verifies with the key: another key's, or tampered."""


def key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """What cosign puts in a bundle's ``publicKey.hint``: base64 SHA-256 of the DER key."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def sign_bundle(statement: Statement, key: ec.EllipticCurvePrivateKey) -> bytes:
    """The Sigstore bundle (JSON bytes) of ``statement`` signed in a DSSE envelope."""
    envelope = Envelope(statement.to_bytes(), INTOTO_PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(key))
    raw = envelope.to_dict()
    # No keyid, as cosign writes it: Go's DSSE verifier skips a signature whose keyid is not
    # the id it computes for the key (securesystemslib's ids are computed otherwise).
    raw["signatures"] = [{"sig": entry["sig"]} for entry in raw["signatures"]]
    return canonical_json(
        {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": key_hint(key.public_key())}},
            "dsseEnvelope": raw,
        }
    )


def open_bundle(data: bytes, public_key: ec.EllipticCurvePublicKey, where: str) -> Statement:
    """The statement of a bundle whose DSSE envelope verifies with ``public_key``.

    A signature's ``keyid`` is only a hint in DSSE (cosign leaves it empty), so every
    signature is tried against the key, whatever its ``keyid`` says.
    """
    try:
        value = json.loads(data)
        if value["mediaType"] != BUNDLE_MEDIA_TYPE:
            raise ValueError(f"media type {value['mediaType']!r}")
        raw = value["dsseEnvelope"]
        signatures = [{"keyid": "", **entry} for entry in raw["signatures"]]
        envelope = Envelope.from_dict({**raw, "signatures": signatures})
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(
            f"{where}: not a Sigstore bundle with a DSSE envelope ({exc}); refusing it"
        ) from None
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        raise SignatureError(
            f"{where}: the envelope holds {envelope.payload_type!r}, not an in-toto statement"
        )
    key = SSlibKey.from_crypto(public_key)
    pae = envelope.pae()
    for signature in envelope.signatures.values():
        try:
            key.verify_signature(Signature(key.keyid, signature.signature), pae)
        except (UnverifiedSignatureError, ValueError):
            continue
        return Statement.parse(envelope.payload, where)
    raise WrongKeyError(
        f"{where}: the envelope's signature does not verify with the given public key "
        "(tampered, or signed by another key)"
    )
