"""The keys that sign the index: ed25519, PKCS#8 PEM files readable by their owner alone.

The root keys stay offline (made and used only by the ceremony commands); the online keys,
one per role that the publish workflow re-signs, come from a directory of `ROLE.key` files or,
in CI where secrets are environment variables, from `EBPF_HUB_TUF_<ROLE>_KEY` (the PEM text).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey

from ebpf_hub.errors import HubError
from ebpf_hub.oci.keys import write_private_key

ONLINE_ROLES = ("targets", "bins", "snapshot", "timestamp")
KEY_SUFFIX = ".key"


def key_env(role: str) -> str:
    """The variable that may hold `role`'s private key: `EBPF_HUB_TUF_TIMESTAMP_KEY`."""
    return f"EBPF_HUB_TUF_{role.upper()}_KEY"


@dataclass(frozen=True)
class OnlineKeys:
    """The signers of the roles that every publish re-signs."""

    targets: CryptoSigner
    bins: CryptoSigner
    snapshot: CryptoSigner
    timestamp: CryptoSigner

    def for_role(self, role: str) -> CryptoSigner:
        signer: CryptoSigner = getattr(self, role)
        return signer


def new_signer() -> CryptoSigner:
    """A fresh ed25519 key pair."""
    return CryptoSigner.generate_ed25519()


def write_signer(path: Path, signer: CryptoSigner) -> None:
    """Write the private key to `path`, mode 0600 from its creation; an existing file is
    never replaced (a key lost that way cannot be got back)."""
    write_private_key(path, signer.private_bytes, replace=False)


def signer_from_pem(pem: bytes, where: str) -> CryptoSigner:
    """The ed25519 signer of a PKCS#8 PEM private key; `where` names its source in errors."""
    try:
        key = load_pem_private_key(pem, None)
    except (ValueError, TypeError):
        raise HubError(
            f"{where} is not an unencrypted PKCS#8 PEM private key",
            hint="use a key written by `ebpf-hub trust init`",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise HubError(f"{where} is not an ed25519 key", hint="use a key written by trust init")
    return CryptoSigner(key, SSlibKey.from_crypto(key.public_key()))


def load_signer(path: Path) -> CryptoSigner:
    """The signer of the key file `path`."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise HubError(
            f"cannot read the key {path} ({exc.strerror})",
            hint="pass the directory `ebpf-hub trust init --keys` wrote",
        ) from None
    return signer_from_pem(pem, str(path))


def load_online_keys(directory: Path | None, env: Mapping[str, str] | None = None) -> OnlineKeys:
    """Each online role's key: `directory/ROLE.key` when a directory is given, else the
    environment's `EBPF_HUB_TUF_<ROLE>_KEY`."""
    env = os.environ if env is None else env
    signers = {}
    for role in ONLINE_ROLES:
        if directory is not None:
            signers[role] = load_signer(directory / f"{role}{KEY_SUFFIX}")
        elif env.get(key_env(role)):
            signers[role] = signer_from_pem(env[key_env(role)].encode(), f"${key_env(role)}")
        else:
            raise HubError(
                f"no {role} key: neither --keys DIR nor ${key_env(role)} is given",
                hint="pass the key directory of `ebpf-hub trust init`, or set the variables",
            )
    return OnlineKeys(**signers)
