"""Signing keys: ECDSA P-256, the scheme cosign's key-pair signatures use.

Private keys are PKCS#8 PEM (optionally encrypted with a password), public keys PKIX PEM, so
``cosign verify --key PUBLIC.pem`` accepts the same public key. CI keeps the private key in a
secret, hence ``EBPF_HUB_SIGNING_KEY`` (the PEM text) as an alternative to a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci.errors import SigningKeyError

SIGNING_KEY_ENV = "EBPF_HUB_SIGNING_KEY"
SIGNING_KEY_PASSWORD_ENV = "EBPF_HUB_SIGNING_KEY_PASSWORD"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class KeyPair:
    """A freshly generated key pair, as PEM bytes ready to be written to files."""

    private_pem: bytes = field(repr=False)
    public_pem: bytes


def generate_key_pair(password: bytes | None = None) -> KeyPair:
    """A new P-256 key pair; the private key is encrypted when a password is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem, public_pem)


def _not_p256(where: str) -> SigningKeyError:
    return SigningKeyError(
        f"{where} is not an ECDSA P-256 key; generate one with ebpf-hub or cosign"
    )


def load_private_key(
    path: Path | None = None,
    password: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> ec.EllipticCurvePrivateKey:
    """The private key from ``path``, else from ``$EBPF_HUB_SIGNING_KEY``.

    Without ``password``, ``$EBPF_HUB_SIGNING_KEY_PASSWORD`` is used if it is set.
    """
    env = os.environ if env is None else env
    if path is not None:
        where = str(path)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read the signing key {path}: {exc.strerror}") from None
    elif env.get(SIGNING_KEY_ENV):
        where, pem = f"${SIGNING_KEY_ENV}", env[SIGNING_KEY_ENV].encode()
    else:
        raise SigningKeyError(
            f"no signing key: pass a key file or set {SIGNING_KEY_ENV} to its PEM"
        )
    if password is None and env.get(SIGNING_KEY_PASSWORD_ENV):
        password = env[SIGNING_KEY_PASSWORD_ENV].encode()
    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"cannot load the signing key from {where}: not a PKCS#8 PEM key, or a wrong or "
            f"missing password (set {SIGNING_KEY_PASSWORD_ENV})"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _not_p256(where)
    return key


def load_public_key(source: Path | bytes) -> ec.EllipticCurvePublicKey:
    """A PKIX PEM public key from a file or from bytes."""
    if isinstance(source, Path):
        where = str(source)
        try:
            pem = source.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read the public key {source}: {exc.strerror}") from None
    else:
        where, pem = "the public key", source
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError(f"{where} is not a PEM public key (PKIX)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _not_p256(where)
    return key
