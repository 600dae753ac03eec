"""Signatures found through the OCI 1.1 referrers API, on a registry that has it and no
`sha256-HEX` index tag (what cosign 3 writes there). Debian's registry lacks the API, so a
routed server plays one, serving what `attach_signature` wrote into a real OCI layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_INDEX, OCI_MANIFEST, Descriptor, ImageManifest
from ebpf_hub.oci.referrers import referrers_tag
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import Claims, attach_signature, signature_tag, verify
from routedserver import REPOSITORY, Artifact, Route, RoutedServer, answer


def _manifest_route(data: bytes, media_type: str, digest: str) -> Route:
    return answer(data, {"Content-Type": media_type, "Docker-Content-Digest": digest})


def test_the_referrers_api_is_asked_when_there_is_no_index_tag(
    serve: Callable[[dict[str, Route]], RoutedServer], tmp_path: Path
) -> None:
    artifact = Artifact(b"\x7fELF an object\n")
    layout = LayoutStore(tmp_path / "layout", create=True)
    config = ImageManifest.parse(artifact.manifest, "artifact").config
    layout.put_blob(config, artifact.config)
    layout.put_blob(artifact.layer_descriptor, artifact.layer)
    layout.put_manifest(artifact.manifest, OCI_MANIFEST, "1.0.0")
    key = ec.generate_private_key(ec.SECP256R1())
    claims = Claims("pkg", "1.0.0")
    referrer = attach_signature(layout, artifact.digest, key, claims)
    listed = layout.get_manifest(referrers_tag(artifact.digest)).data
    bundle_manifest = layout.get_manifest(referrer).data
    parsed = ImageManifest.parse(bundle_manifest, "referrer")
    blobs: list[Descriptor] = [parsed.config, *parsed.layers]
    v2 = f"/v2/{REPOSITORY}"
    routes = {
        **artifact.routes(),
        f"{v2}/referrers/{artifact.digest}": answer(listed, {"Content-Type": OCI_INDEX}),
        f"{v2}/manifests/{referrer}": _manifest_route(bundle_manifest, OCI_MANIFEST, referrer),
        **{
            f"{v2}/blobs/{blob.digest}": answer(
                (tmp_path / "layout/blobs/sha256" / blob.digest[7:]).read_bytes()
            )
            for blob in blobs
        },
    }
    server = serve(routes)
    store = RegistryStore(server.host, REPOSITORY, insecure=True)
    found = verify(store, f"{server.host}/{REPOSITORY}", artifact.digest, key.public_key(), claims)
    assert (found.form, found.digest, found.claims) == ("referrer", referrer, claims)
    # The signature tag and the index tag were looked for first, then the API answered.
    assert server.count("GET", f"{v2}/manifests/{signature_tag(artifact.digest)}") == 1
    assert server.count("GET", f"{v2}/manifests/{referrers_tag(artifact.digest)}") == 1
    assert server.count("GET", f"{v2}/referrers/{artifact.digest}") == 1
    assert json.loads(listed)["manifests"][0]["digest"] == referrer
