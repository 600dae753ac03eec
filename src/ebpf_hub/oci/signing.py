"""Signatures in cosign's key-pair format, so ``cosign verify --key`` can check them too.

For the manifest ``sha256:HEX`` of repository ``R`` the signature is an OCI image manifest
tagged ``sha256-HEX.sig`` in the same store (cosign's tag-based discovery: it works on every
registry, including those without the referrers API). Each of its layers is a simple-signing
payload naming ``R`` and the signed digest, with the base64 ECDSA-P256/SHA-256 signature of the
payload bytes in the ``dev.cosignproject.cosign/signature`` annotation. Several signers append
layers to the same manifest; the config is the minimal image config cosign writes.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci.digest import check_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError, ManifestError, NotFoundError, SignatureError
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor, ImageManifest, canonical_json
from ebpf_hub.oci.store import Store, read_blob

PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
# The config of the signature manifest: the plain image config cosign writes, not a package's.
SIGNATURE_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
SIGNATURE_TYPE = "cosign container image signature"
PAYLOAD_LIMIT = 64 * 1024
_ZERO_TIME = "0001-01-01T00:00:00Z"


def signature_tag(digest: str) -> str:
    """``sha256-HEX.sig``: where cosign looks for the signatures of ``digest``."""
    return f"sha256-{check_digest(digest)}.sig"


def signing_payload(repo: str, digest: str) -> bytes:
    """The simple-signing payload, byte-identical to the one cosign signs."""
    return canonical_json(
        {
            "critical": {
                "identity": {"docker-reference": repo},
                "image": {"docker-manifest-digest": digest},
                "type": SIGNATURE_TYPE,
            },
            "optional": None,
        }
    )


def _cosign_config(layers: tuple[Descriptor, ...]) -> bytes:
    """The image config cosign writes (zero times, one history entry and diff id per layer).

    Key order follows cosign's output rather than sorted order, as verifiers never read it and
    matching cosign keeps the bytes familiar to anyone comparing the two.
    """
    config = {
        "architecture": "",
        "created": _ZERO_TIME,
        "history": [{"created": _ZERO_TIME} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
        "config": {},
    }
    return json.dumps(config, separators=(",", ":")).encode()


def _signature_verifies(public_key: ec.EllipticCurvePublicKey, payload: bytes, b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(b64, validate=True), payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _existing_signatures(store: Store, tag: str) -> tuple[Descriptor, ...]:
    try:
        fetched = store.get_manifest(tag)
    except NotFoundError:
        return ()
    return ImageManifest.parse(fetched.data, f"{store.name}:{tag}").layers


def sign(store: Store, repo: str, digest: str, key: ec.EllipticCurvePrivateKey) -> str:
    """Sign manifest ``digest`` of ``repo``; return the digest of the signature manifest.

    Idempotent: if the signature manifest already holds a valid signature of this payload by
    this key, nothing is written. Signatures by other keys are kept.
    """
    store.get_manifest(digest)  # refuse to sign what the store does not hold
    tag = signature_tag(digest)
    payload = signing_payload(repo, digest)
    payload_digest = sha256_digest(payload)
    existing = _existing_signatures(store, tag)
    for layer in existing:
        signature = layer.annotations.get(SIGNATURE_ANNOTATION, "")
        if layer.digest == payload_digest and _signature_verifies(
            key.public_key(), payload, signature
        ):
            current = store.resolve(tag)
            if current is not None:
                return current
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    layer = Descriptor(
        PAYLOAD_MEDIA_TYPE, payload_digest, len(payload), {SIGNATURE_ANNOTATION: signature}
    )
    layers = (*existing, layer)
    config = _cosign_config(layers)
    config_descriptor = Descriptor(SIGNATURE_CONFIG_MEDIA_TYPE, sha256_digest(config), len(config))
    store.put_blob(layer, payload)
    store.put_blob(config_descriptor, config)
    manifest = ImageManifest(config_descriptor, layers).to_bytes()
    return store.put_manifest(manifest, OCI_MANIFEST, tag)


def _payload_problem(payload: bytes, repo: str, digest: str) -> str | None:
    """Why a correctly signed payload does not vouch for ``repo@digest``, or None."""
    try:
        critical = json.loads(payload)["critical"]
        kind = critical["type"]
        signed_digest = critical["image"]["docker-manifest-digest"]
        signed_repo = critical["identity"]["docker-reference"]
    except (ValueError, KeyError, TypeError):
        return "a signed payload is not a simple-signing document"
    if kind != SIGNATURE_TYPE:
        return f"a signed payload has type {kind!r}, not {SIGNATURE_TYPE!r}"
    if signed_digest != digest:
        return f"a signature is for {signed_digest}, not {digest}"
    if signed_repo != repo:
        return f"a signature is for repository {signed_repo!r}, not {repo!r}"
    return None


def _layer_problem(
    store: Store, layer: Descriptor, repo: str, digest: str, key: ec.EllipticCurvePublicKey
) -> str | None:
    if layer.media_type != PAYLOAD_MEDIA_TYPE:
        return f"layer {layer.digest} is not a simple-signing payload"
    try:
        payload = read_blob(store, layer, PAYLOAD_LIMIT)
    except IntegrityError as exc:
        return str(exc)
    if not _signature_verifies(key, payload, layer.annotations.get(SIGNATURE_ANNOTATION, "")):
        return "a signature does not verify with the given public key"
    return _payload_problem(payload, repo, digest)


def verify(store: Store, repo: str, digest: str, public_key: ec.EllipticCurvePublicKey) -> None:
    """Return if one signature of ``digest`` verifies with ``public_key`` and names exactly
    ``repo`` and ``digest``; raise :class:`SignatureError` otherwise."""
    tag = signature_tag(digest)
    where = f"{repo}@{digest}"
    try:
        fetched = store.get_manifest(tag)
        manifest = ImageManifest.parse(fetched.data, f"{store.name}:{tag}")
    except NotFoundError:
        raise SignatureError(
            f"{where} is not signed: {store.name} has no tag {tag}; sign it, or check the reference"
        ) from None
    except (ManifestError, IntegrityError) as exc:
        raise SignatureError(f"{where}: the signature manifest is unusable: {exc}") from None
    problems: list[str] = []
    for layer in manifest.layers:
        problem = _layer_problem(store, layer, repo, digest, public_key)
        if problem is None:
            return
        problems.append(problem)
    reasons = "; ".join(dict.fromkeys(problems)) or "the signature manifest has no layers"
    raise SignatureError(f"{where}: no valid signature ({reasons}); check the key and reference")
