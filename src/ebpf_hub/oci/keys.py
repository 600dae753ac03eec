"""Signing keys: ECDSA P-256, the scheme cosign's key-pair signatures use.

Private keys are PKCS#8 PEM, or encrypted under a passphrase in cosign's own format
(`ebpf_hub.oci.sigstorekey`), so cosign and ebpf-hub use each other's key files; a
PKCS#8-encrypted key loads too. Public keys are PKIX PEM, as ``cosign verify --key`` reads.
CI keeps the private key in a secret, hence ``EBPF_HUB_SIGNING_KEY`` (the PEM text) as an
alternative to a file, and the passphrase in ``EBPF_HUB_SIGNING_KEY_PASSWORD`` (or cosign's
``COSIGN_PASSWORD``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci.errors import SigningKeyError

SIGNING_KEY_ENV = "EBPF_HUB_SIGNING_KEY"
SIGNING_KEY_PASSWORD_ENV = "EBPF_HUB_SIGNING_KEY_PASSWORD"  # noqa: S105 - a variable name
PASSWORD_ENVS = (SIGNING_KEY_PASSWORD_ENV, "COSIGN_PASSWORD")  # the first one set wins
_PKCS8_ENCRYPTED = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_SET_PASSWORD = f"set {' or '.join(PASSWORD_ENVS)} to its passphrase"

Ask = Callable[[str], Optional[bytes]]  # a prompt -> what the user typed, or None: nobody can


@dataclass(frozen=True)
class KeyPair:
    """A freshly generated key pair, as PEM bytes ready to be written to files."""

    private_pem: bytes = field(repr=False)
    public_pem: bytes


def generate_key_pair(password: bytes | None = None) -> KeyPair:
    """A new P-256 key pair; with a password, the private key is encrypted as cosign does."""
    key = ec.generate_private_key(ec.SECP256R1())
    if password is None:
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        from ebpf_hub.oci import sigstorekey  # NaCl loads only for encrypted keys

        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        private_pem = sigstorekey.encrypt(der, password)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem, public_pem)


def _not_p256(where: str) -> SigningKeyError:
    return SigningKeyError(
        f"{where} is not an ECDSA P-256 key; generate one with ebpf-hub or cosign"
    )


def write_private_key(path: Path, pem: bytes, *, replace: bool) -> None:
    """Write `pem` to `path`, readable by its owner alone from the first byte, whatever the
    umask: a key created with the umask's mode and narrowed by a later chmod can be opened
    by anyone in between.

    The bytes go to a new file beside `path`, created 0600 (O_EXCL, O_NOFOLLOW: no file or
    symlink planted there is used), which is then linked into place, refused if `path`
    exists, or renamed over it when `replace`: nobody sees a partial key either.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with os.fdopen(os.open(temp, flags, 0o600), "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            temp.replace(path)
        else:
            os.link(temp, path)
    except FileExistsError:
        raise SigningKeyError(f"{path} exists; pass --force to replace it") from None
    except OSError as exc:
        raise SigningKeyError(f"cannot write the signing key {path}: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)


def env_passphrase(env: Mapping[str, str]) -> bytes | None:
    """The passphrase the environment gives (an empty one counts, as with cosign)."""
    return next((env[name].encode() for name in PASSWORD_ENVS if name in env), None)


def load_private_key(
    path: Path | None = None,
    password: bytes | None = None,
    env: Mapping[str, str] | None = None,
    ask: Ask | None = None,
) -> ec.EllipticCurvePrivateKey:
    """The private key from ``path``, else from ``$EBPF_HUB_SIGNING_KEY``.

    An encrypted key opens with ``password``, else the environment's passphrase
    (`PASSWORD_ENVS`), else what ``ask`` gets from the user.
    """
    # Only signers load a private key: NaCl and scrypt stay out of the client's start-up.
    from ebpf_hub.oci import sigstorekey

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
    cosign_format = sigstorekey.is_encrypted(pem)
    if password is None and (cosign_format or _PKCS8_ENCRYPTED in pem):
        password = env_passphrase(env)
        if password is None and ask is not None:
            password = ask(f"Passphrase for {where}: ")
    try:
        if cosign_format:
            der = sigstorekey.decrypt(pem, password or b"", where)
            key = serialization.load_der_private_key(der, None)
        else:
            key = serialization.load_pem_private_key(pem, password)
    except sigstorekey.WrongPassphraseError:
        raise SigningKeyError(
            f"cannot decrypt the signing key {where}: wrong or missing password ({_SET_PASSWORD})"
        ) from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"cannot load the signing key from {where}: not a private key in PEM, or a wrong or "
            f"missing password ({_SET_PASSWORD})"
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
