"""cosign's passphrase-encrypted private keys, so that cosign and ebpf-hub share key files.

`cosign generate-key-pair` writes the PKCS#8 DER of the key encrypted the way
go-securesystemslib's `encrypted` package does it: a key derived from the passphrase with
scrypt (random 32-byte salt), the DER sealed with NaCl's secretbox (XSalsa20-Poly1305, random
24-byte nonce), and the parameters, salt, nonce and ciphertext kept as JSON, base64 in PEM
armour typed `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign 1 wrote `ENCRYPTED COSIGN PRIVATE
KEY`). Decryption accepts only the scrypt parameters that package accepts: a key file cannot
make us spend gigabytes of memory on one derivation.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any, Final

import nacl.exceptions
import nacl.secret
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ebpf_hub.oci.errors import SigningKeyError

PEM_TYPE: Final = "ENCRYPTED SIGSTORE PRIVATE KEY"
PEM_TYPES: Final = (PEM_TYPE, "ENCRYPTED COSIGN PRIVATE KEY")
_KDF, _CIPHER = "scrypt", "nacl/secretbox"
# (N, r, p): go-securesystemslib's legacy, standard (its default, ours) and OWASP levels.
_SCRYPT_LEVELS: Final = frozenset({(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)})
_NEW_LEVEL: Final = (65536, 8, 1)
_SALT_SIZE: Final = 32
_PEM_LINE: Final = 64


class WrongPassphraseError(SigningKeyError):
    """The passphrase does not open the key (or the file was altered)."""


@dataclass(frozen=True)
class _Envelope:
    """The JSON inside the PEM armour."""

    level: tuple[int, int, int]
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> dict[str, Any]:
        n, r, p = self.level
        return {
            "kdf": {"name": _KDF, "params": {"N": n, "r": r, "p": p}, "salt": _b64(self.salt)},
            "cipher": {"name": _CIPHER, "nonce": _b64(self.nonce)},
            "ciphertext": _b64(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: Any) -> _Envelope:
        """The envelope, or KeyError/TypeError/ValueError when it is not one we can open."""
        kdf, cipher = data["kdf"], data["cipher"]
        if kdf["name"] != _KDF or cipher["name"] != _CIPHER:
            raise ValueError(f"{kdf['name']} with {cipher['name']} is not scrypt with secretbox")
        params = kdf["params"]
        level = (int(params["N"]), int(params["r"]), int(params["p"]))
        if level not in _SCRYPT_LEVELS:
            raise ValueError(f"unsupported scrypt parameters N={level[0]} r={level[1]}")
        return cls(
            level,
            base64.b64decode(kdf["salt"], validate=True),
            base64.b64decode(cipher["nonce"], validate=True),
            base64.b64decode(data["ciphertext"], validate=True),
        )


def is_encrypted(pem: bytes) -> bool:
    """Whether `pem` is armoured as one of cosign's encrypted private keys."""
    return any(f"-----BEGIN {kind}-----".encode() in pem for kind in PEM_TYPES)


def encrypt(der: bytes, passphrase: bytes) -> bytes:
    """The PEM cosign writes for the PKCS#8 `der` under `passphrase`."""
    salt = os.urandom(_SALT_SIZE)
    nonce = os.urandom(nacl.secret.SecretBox.NONCE_SIZE)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, _NEW_LEVEL))
    sealed = box.encrypt(der, nonce).ciphertext
    envelope = _Envelope(_NEW_LEVEL, salt, nonce, sealed)
    body = json.dumps(envelope.to_json(), separators=(",", ":")).encode()
    encoded = base64.b64encode(body).decode()
    lines = [encoded[i : i + _PEM_LINE] for i in range(0, len(encoded), _PEM_LINE)]
    return "\n".join(
        [f"-----BEGIN {PEM_TYPE}-----", *lines, f"-----END {PEM_TYPE}-----", ""]
    ).encode()


def decrypt(pem: bytes, passphrase: bytes, where: str) -> bytes:
    """The PKCS#8 DER inside cosign's encrypted `pem` (read from `where`)."""
    try:
        envelope = _Envelope.from_json(json.loads(base64.b64decode(_armoured(pem), validate=True)))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"{where} is not a cosign encrypted key ({exc})") from None
    box = nacl.secret.SecretBox(_derive(passphrase, envelope.salt, envelope.level))
    try:
        return box.decrypt(envelope.ciphertext, envelope.nonce)
    except (nacl.exceptions.CryptoError, ValueError):
        raise WrongPassphraseError(f"cannot decrypt the signing key {where}") from None


def _armoured(pem: bytes) -> bytes:
    """The base64 body between the BEGIN and END lines."""
    lines = pem.decode("ascii").strip().splitlines()
    if (
        len(lines) < 3
        or not lines[0].startswith("-----BEGIN ")
        or not lines[-1].startswith("-----END ")
    ):
        raise ValueError("no PEM armour")
    return "".join(line.strip() for line in lines[1:-1]).encode()


def _derive(passphrase: bytes, salt: bytes, level: tuple[int, int, int]) -> bytes:
    n, r, p = level
    return Scrypt(salt=salt, length=nacl.secret.SecretBox.KEY_SIZE, n=n, r=r, p=p).derive(
        passphrase
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
