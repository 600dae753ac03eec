"""Signatures in cosign's key-pair format, so ``cosign verify --key`` can check them too.

Two forms, both written by the publisher, either accepted by `verify`:

- cosign's tag form: for the manifest ``sha256:HEX`` of repository ``R``, an OCI image
  manifest tagged ``sha256-HEX.sig`` in the same store. Each of its layers is a simple-signing
  payload naming ``R`` and the signed digest, with the base64 ECDSA-P256/SHA-256 signature of
  the payload bytes in the ``dev.cosignproject.cosign/signature`` annotation. Several signers
  append layers to the same manifest; the config is the minimal image config cosign writes.
- cosign 3's bundle form (`attach_signature`): an OCI 1.1 referrer holding a Sigstore bundle
  whose DSSE envelope signs an in-toto statement of type ``https://sigstore.dev/cosign/sign/v1``
  about the digest (`ebpf_hub.oci.dsse`, `ebpf_hub.oci.referrers`).

Both name the package and version (`Claims`): in the payload's ``optional`` claims, and in the
statement subject's annotations, which is where ``cosign sign -a KEY=VALUE`` puts them in each
form (``cosign verify -a package=NAME -a version=VERSION`` checks them). A signature that names
another package or version than the one asked for is refused. One that names none (signed
before the claims existed, or by ``cosign sign`` without ``-a``) still binds its digest.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci import dsse
from ebpf_hub.oci.digest import check_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError, ManifestError, NotFoundError, SignatureError
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor, ImageManifest, canonical_json
from ebpf_hub.oci.referrers import Attached, attach, find_attached
from ebpf_hub.oci.store import Store, read_blob
from ebpf_hub.safetext import clip

PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
# The config of the signature manifest: the plain image config cosign writes, not a package's.
SIGNATURE_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
SIGNATURE_TYPE = "cosign container image signature"
PAYLOAD_LIMIT = 64 * 1024
_ZERO_TIME = "0001-01-01T00:00:00Z"
# The statement cosign 3 signs for an image in its bundle form.
SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1"
PACKAGE_CLAIM, VERSION_CLAIM = "package", "version"
_WRONG_KEY = "a signature does not verify with the given public key"
Form = Literal["tag", "referrer"]
FORM_NAMES: dict[Form, str] = {
    "tag": "cosign signature tag (simple signing)",
    "referrer": "OCI referrer (Sigstore bundle, DSSE)",
}


@dataclass(frozen=True)
class Claims:
    """The package and version a signature vouches for."""

    package: str
    version: str

    def to_json(self) -> dict[str, str]:
        return {PACKAGE_CLAIM: self.package, VERSION_CLAIM: self.version}

    @classmethod
    def found(cls, values: object) -> Claims | None:
        """The claims a signature makes, None when it names no package."""
        if not isinstance(values, dict) or PACKAGE_CLAIM not in values:
            return None
        return cls(str(values[PACKAGE_CLAIM]), str(values.get(VERSION_CLAIM)))

    def __str__(self) -> str:
        return f"{clip(self.package)} {clip(self.version)}"  # a signer's text, shortened


@dataclass(frozen=True)
class VerifiedSignature:
    """Which signature verified, and what it says (for `ebpf-hub verify`)."""

    form: Form
    digest: str
    identity: str | None  # the repository the tag form names; the referrer form names none
    claims: Claims | None


def signature_tag(digest: str) -> str:
    """``sha256-HEX.sig``: where cosign looks for the signatures of ``digest``."""
    return f"sha256-{check_digest(digest)}.sig"


def signing_payload(repo: str, digest: str, claims: Claims | None = None) -> bytes:
    """The simple-signing payload, byte-identical to the one cosign signs (with ``-a``)."""
    return canonical_json(
        {
            "critical": {
                "identity": {"docker-reference": repo},
                "image": {"docker-manifest-digest": digest},
                "type": SIGNATURE_TYPE,
            },
            "optional": None if claims is None else claims.to_json(),
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


def sign(
    store: Store,
    repo: str,
    digest: str,
    key: ec.EllipticCurvePrivateKey,
    claims: Claims | None = None,
) -> str:
    """Sign manifest ``digest`` of ``repo`` in the tag form; return the signature manifest's
    digest.

    Idempotent: if the signature manifest already holds a valid signature of this payload by
    this key, nothing is written. Signatures by other keys are kept.
    """
    store.get_manifest(digest)  # refuse to sign what the store does not hold
    tag = signature_tag(digest)
    payload = signing_payload(repo, digest, claims)
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


def attach_signature(
    store: Store, digest: str, key: ec.EllipticCurvePrivateKey, claims: Claims | None = None
) -> str:
    """Sign manifest ``digest`` in cosign 3's bundle form, attached as a referrer; return the
    referrer's digest.

    Idempotent: a referrer already holding a valid signature by this key with these claims
    is returned and nothing is written (ECDSA signatures differ each time, so signing again
    would pile up referrers).
    """
    fetched = store.get_manifest(digest)  # refuse to sign what the store does not hold
    public_key = key.public_key()
    for found in _signature_referrers(store, digest):
        try:
            if _referrer_claims(store, found, digest, public_key) == claims:
                return found.digest
        except (SignatureError, IntegrityError):
            continue
    statement = dsse.Statement(
        digest, SIGN_PREDICATE_TYPE, {}, annotations={} if claims is None else claims.to_json()
    )
    subject = Descriptor(fetched.media_type or OCI_MANIFEST, digest, len(fetched.data))
    return attach(
        store,
        subject,
        dsse.BUNDLE_MEDIA_TYPE,
        (dsse.BUNDLE_MEDIA_TYPE, dsse.sign_bundle(statement, key)),
        {
            dsse.CONTENT_ANNOTATION: "dsse-envelope",
            dsse.PREDICATE_ANNOTATION: SIGN_PREDICATE_TYPE,
        },
        title=f"sha256-{check_digest(digest)}.sigstore.json",
    )


def _claims_problem(found: Claims | None, expect: Claims | None) -> str | None:
    if expect is None or found is None or found == expect:
        return None
    return f"a signature is for {found}, not {expect}"


def _payload_claims(payload: bytes, repo: str, digest: str) -> Claims | None:
    """The claims of a correctly signed payload that vouches for ``repo@digest``; raise
    :class:`SignatureError` saying why when it does not."""
    try:
        document = json.loads(payload)
        critical = document["critical"]
        kind = critical["type"]
        signed_digest = critical["image"]["docker-manifest-digest"]
        signed_repo = critical["identity"]["docker-reference"]
    except (ValueError, KeyError, TypeError):
        raise SignatureError("a signed payload is not a simple-signing document") from None
    if kind != SIGNATURE_TYPE:
        raise SignatureError(f"a signed payload has type {kind!r}, not {SIGNATURE_TYPE!r}")
    if signed_digest != digest:
        raise SignatureError(f"a signature is for {signed_digest}, not {digest}")
    if signed_repo != repo:
        raise SignatureError(f"a signature is for repository {signed_repo!r}, not {repo!r}")
    return Claims.found(document.get("optional"))


def _layer_claims(
    store: Store, layer: Descriptor, repo: str, digest: str, key: ec.EllipticCurvePublicKey
) -> Claims | None:
    if layer.media_type != PAYLOAD_MEDIA_TYPE:
        raise SignatureError(f"layer {layer.digest} is not a simple-signing payload")
    payload = read_blob(store, layer, PAYLOAD_LIMIT)
    if not _signature_verifies(key, payload, layer.annotations.get(SIGNATURE_ANNOTATION, "")):
        raise SignatureError(_WRONG_KEY)
    return _payload_claims(payload, repo, digest)


def _tag_signatures(
    store: Store, repo: str, digest: str, key: ec.EllipticCurvePublicKey, problems: list[str]
) -> list[VerifiedSignature]:
    """The tag form's signatures of ``digest`` that verify; why others did not, in
    ``problems``."""
    tag = signature_tag(digest)
    try:
        fetched = store.get_manifest(tag)
        manifest = ImageManifest.parse(fetched.data, f"{store.name}:{tag}")
    except NotFoundError:
        return []
    except (ManifestError, IntegrityError) as exc:
        problems.append(f"the signature manifest is unusable: {exc}")
        return []
    if not manifest.layers:
        problems.append("the signature manifest has no layers")
    verified = []
    for layer in manifest.layers:
        try:
            claims = _layer_claims(store, layer, repo, digest, key)
        except (SignatureError, IntegrityError) as exc:
            problems.append(str(exc))
            continue
        verified.append(VerifiedSignature("tag", digest, repo, claims))
    return verified


def _signature_referrers(store: Store, digest: str) -> tuple[Attached, ...]:
    return tuple(
        found
        for found in find_attached(store, digest, dsse.BUNDLE_MEDIA_TYPE)
        if found.manifest.annotations.get(dsse.PREDICATE_ANNOTATION) == SIGN_PREDICATE_TYPE
    )


def _referrer_claims(
    store: Store, found: Attached, digest: str, key: ec.EllipticCurvePublicKey
) -> Claims | None:
    """The claims of a bundle-form signature of ``digest`` that verifies with ``key``."""
    where = f"{store.name}@{found.digest}"
    if len(found.manifest.layers) != 1:
        raise SignatureError(f"{where}: a signature referrer must hold one bundle")
    statement = dsse.open_bundle(
        read_blob(store, found.manifest.layers[0], dsse.BUNDLE_LIMIT), key, where
    )
    if statement.predicate_type != SIGN_PREDICATE_TYPE:
        raise SignatureError(f"a signed statement has type {statement.predicate_type!r}")
    if statement.digest != digest:
        raise SignatureError(f"a signature is for {statement.digest}, not {digest}")
    return Claims.found(dict(statement.annotations))


def _referrer_signatures(
    store: Store, digest: str, key: ec.EllipticCurvePublicKey, problems: list[str]
) -> list[VerifiedSignature]:
    verified = []
    for found in _signature_referrers(store, digest):
        try:
            claims = _referrer_claims(store, found, digest, key)
        except dsse.WrongKeyError:  # said as the tag form says it: one reason, not two
            problems.append(_WRONG_KEY)
            continue
        except (SignatureError, IntegrityError) as exc:
            problems.append(str(exc))
            continue
        verified.append(VerifiedSignature("referrer", found.digest, None, claims))
    return verified


def verify(
    store: Store,
    repo: str,
    digest: str,
    public_key: ec.EllipticCurvePublicKey,
    expect: Claims | None = None,
) -> VerifiedSignature:
    """The first signature of ``digest`` that verifies with ``public_key``, names exactly
    ``repo`` (tag form) and ``digest``, and names ``expect`` or nothing; raise
    :class:`SignatureError` otherwise.

    The tag form is looked at first (two requests); the referrers only when it has no
    acceptable signature.
    """
    where = f"{repo}@{digest}"
    problems: list[str] = []
    for form in FORM_NAMES:
        if form == "tag":
            found = _tag_signatures(store, repo, digest, public_key, problems)
        else:
            found = _referrer_signatures(store, digest, public_key, problems)
        for signature in found:
            problem = _claims_problem(signature.claims, expect)
            if problem is None:
                return signature
            problems.append(problem)
    if not problems:
        raise SignatureError(
            f"{where} is not signed: {store.name} has neither the tag {signature_tag(digest)} "
            "nor a signature referrer; sign it, or check the reference"
        )
    reasons = "; ".join(dict.fromkeys(problems))
    raise SignatureError(f"{where}: no valid signature ({reasons}); check the key and reference")
