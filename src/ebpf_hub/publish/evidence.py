"""The signed evidence of a published version that the digest ledger carries: which key signed
it and the build origin (builder, CI run, toolchain) of its SLSA provenance.

Publish records it as it signs (`evidence_of`); `--digests-from-registry` reads it back from
the registry (`read_evidence`), verified with the hub's public key, so an index built from the
registry alone shows the same as one built from a complete ledger. Both name the key as
`ebpf-hub verify` does, so the trust panel, the JSON index and `verify` agree.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.model.index import BuildOrigin
from ebpf_hub.oci.dsse import key_hint
from ebpf_hub.oci.errors import SignatureError
from ebpf_hub.oci.provenance import Provenance, verified_provenances
from ebpf_hub.oci.signing import Claims, verify
from ebpf_hub.oci.store import Store


def signer_of(public_key: ec.EllipticCurvePublicKey) -> str:
    """`sha256:` and cosign's key hint (base64 SHA-256 of the DER key): the fingerprint
    `ebpf-hub verify` prints for the key a signature verified with."""
    return f"sha256:{key_hint(public_key)}"


def origin_of(provenance: Provenance) -> BuildOrigin:
    """The builder, run and toolchain a provenance records."""
    return BuildOrigin(provenance.builder_id, provenance.invocation, dict(provenance.toolchain))


def read_evidence(
    store: Store,
    name: str,
    version: str,
    digest: str,
    *,
    manifest: str,
    public_key: ec.EllipticCurvePublicKey | None,
) -> tuple[str | None, BuildOrigin | None]:
    """The signer of `digest` (what the index pins) and the origin of the provenance of
    `manifest` (the first platform's manifest of an image index, as publish records it), each
    only when it verifies with `public_key`.

    No key: both unknown, never taken unverified. A version with no signature or provenance
    by this key (published unsigned, or by another key) is unknown too: the index still pins
    it, and the panel's `ebpf-hub verify` says why it does not verify.
    """
    if public_key is None:
        return None, None
    try:
        verify(store, store.name, digest, public_key, Claims(name, version))
        signer: str | None = signer_of(public_key)
    except SignatureError:
        signer = None
    provenances = verified_provenances(store, manifest, public_key, [])
    # The latest attached, as `ebpf-hub verify` takes it: a rebuild's follows the first's.
    return signer, origin_of(provenances[-1]) if provenances else None
