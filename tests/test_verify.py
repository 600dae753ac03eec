"""Signatures that bind the package, provenance, `ebpf-hub verify`, and real clients reading
both: a seed package published to the real registry fixture, then attacked and read by cosign,
oras and crane (.tools/bin, from scripts/fetch-tools)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.cli import main
from ebpf_hub.model.artifact import BuildInfo
from ebpf_hub.oci import dsse
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.errors import SignatureError
from ebpf_hub.oci.imageindex import Platform, platform_manifest
from ebpf_hub.oci.keys import load_private_key, load_public_key
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor
from ebpf_hub.oci.provenance import (
    SLSA_PREDICATE_TYPE,
    attach_provenance,
    verify_provenance,
)
from ebpf_hub.oci.referrers import attach, find_attached, referrers_tag
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import Claims, attach_signature, sign, signature_tag, verify
from ebpf_hub.publish.rebuild import toolchain_differences
from hubrepo import REPO, copy_seed, make_hub
from registry import RegistryServer

SEED = "execsnoop"
TOOLS = REPO / ".tools" / "bin"


@dataclass(frozen=True)
class Published:
    """The seed published, signed and attested: where, its digest, the keys and the index."""

    registry: RegistryServer
    namespace: str
    digest: str  # what the index pins: the version's image index
    manifest: str  # this machine's package manifest in it, which the provenance is about
    version: str
    key: Path  # the private key's prefix: KEY.key and KEY.pub
    site: Path
    root: Path  # the hub checkout it was published from

    @property
    def repository(self) -> str:
        return f"{self.registry.host}/{self.namespace}/{SEED}"

    def store(self) -> RegistryStore:
        return RegistryStore(self.registry.host, f"{self.namespace}/{SEED}", insecure=True)

    def public(self) -> ec.EllipticCurvePublicKey:
        return load_public_key(Path(f"{self.key}.pub"))

    def private(self) -> ec.EllipticCurvePrivateKey:
        return load_private_key(Path(f"{self.key}.key"))


@pytest.fixture(scope="module")
def published(registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Published:
    work = tmp_path_factory.mktemp("verify")
    root = make_hub(work / "hub")
    copy_seed(root, SEED)
    key = work / "hub-key"
    assert main(["keygen", str(key)]) == 0
    namespace = f"verify-{uuid.uuid4().hex[:8]}"
    ledger = work / "digests.json"
    registry_ns = f"{registry.host}/{namespace}"
    publish = ["publish", "--root", str(root), "--all", "--registry", registry_ns, "--insecure"]
    assert main([*publish, "--sign-key", f"{key}.key", "--ledger", str(ledger)]) == 0
    [(version, entry)] = json.loads(ledger.read_text())[SEED].items()
    site = work / "site"
    index = ["index", "--root", str(root), "--out", str(site), "--digests", str(ledger)]
    assert main([*index, "--registry", registry_ns]) == 0
    store = RegistryStore(registry.host, f"{namespace}/{SEED}", insecure=True)
    chosen = platform_manifest(store, entry["digest"], Platform.host(), SEED)
    manifest = entry["digest"] if chosen is None else chosen.descriptor.digest
    return Published(registry, namespace, entry["digest"], manifest, version, key, site, root)


def mirror_of(published: Published) -> RegistryStore:
    """A new repository holding the artifact alone: no signature, no referrer."""
    mirror = RegistryStore(
        published.registry.host, f"mirror-{uuid.uuid4().hex[:8]}/{SEED}", insecure=True
    )
    copy_tag(published.store(), mirror, published.version)
    return mirror


def test_publish_signs_in_both_forms_naming_package_and_version(published: Published) -> None:
    store, digest = published.store(), published.digest
    expect = Claims(SEED, published.version)
    found = verify(store, published.repository, digest, published.public(), expect)
    assert (found.form, found.identity, found.claims) == ("tag", published.repository, expect)
    payload_layer = json.loads(store.get_manifest(signature_tag(digest)).data)["layers"][0]
    assert payload_layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    [signature] = [
        a
        for a in find_attached(store, digest, dsse.BUNDLE_MEDIA_TYPE)
        if a.manifest.annotations[dsse.PREDICATE_ANNOTATION]
        == "https://sigstore.dev/cosign/sign/v1"
    ]
    assert signature.manifest.subject is not None
    assert signature.manifest.subject.digest == digest
    # Signing and attesting again adds nothing: the index has one referrer (its signature),
    # this machine's manifest one (its provenance).
    before = [store.get_manifest(referrers_tag(d)).data for d in (digest, published.manifest)]
    assert attach_signature(store, digest, published.private(), expect) == signature.digest
    manifest = published.manifest
    subject = Descriptor(OCI_MANIFEST, manifest, len(store.get_manifest(manifest).data))
    provenance = verify_provenance(store, manifest, published.public(), "seed")
    assert not attach_provenance(store, subject, provenance, published.private())
    after = [store.get_manifest(referrers_tag(d)).data for d in (digest, published.manifest)]
    assert after == before
    assert [len(json.loads(data)["manifests"]) for data in before] == [1, 1]


def test_the_referrer_form_alone_verifies(published: Published) -> None:
    mirror = mirror_of(published)
    claims = Claims(SEED, published.version)
    attach_signature(mirror, published.digest, published.private(), claims)
    assert mirror.resolve(signature_tag(published.digest)) is None
    found = verify(mirror, published.repository, published.digest, published.public(), claims)
    assert (found.form, found.identity, found.claims) == ("referrer", None, claims)


def test_a_signature_for_another_package_or_version_is_refused(published: Published) -> None:
    mirror, digest, key = mirror_of(published), published.digest, published.private()
    repository, public = published.repository, published.public()
    sign(mirror, repository, digest, key, Claims(SEED, "9.9.9"))
    attach_signature(mirror, digest, key, Claims("opensnoop", published.version))
    with pytest.raises(SignatureError) as refused:
        verify(mirror, repository, digest, public, Claims(SEED, published.version))
    message = str(refused.value)
    assert "\n" not in message
    assert f"a signature is for {SEED} 9.9.9, not {SEED} {published.version}" in message
    assert f"a signature is for opensnoop {published.version}, not {SEED}" in message
    # The other package's own check accepts the signature made for it.
    verify(mirror, repository, digest, public, Claims("opensnoop", published.version))


def test_a_provenance_about_another_digest_is_refused(published: Published) -> None:
    store, mirror = published.store(), mirror_of(published)
    [attached] = [
        a
        for a in find_attached(store, published.manifest, dsse.BUNDLE_MEDIA_TYPE)
        if a.manifest.annotations[dsse.PREDICATE_ANNOTATION] == SLSA_PREDICATE_TYPE
    ]
    genuine = mirror_blob(store, attached.manifest.layers[0].to_json())  # signed, about the seed
    # Another artifact in the mirror, given the seed's provenance as its own referrer.
    other = other_artifact(mirror, published)
    attach(
        mirror,
        other,
        dsse.BUNDLE_MEDIA_TYPE,
        (dsse.BUNDLE_MEDIA_TYPE, genuine),
        {dsse.PREDICATE_ANNOTATION: SLSA_PREDICATE_TYPE},
    )
    with pytest.raises(SignatureError) as refused:
        verify_provenance(mirror, other.digest, published.public(), "the other artifact")
    assert f"the provenance is about {published.manifest}, not {other.digest}" in str(refused.value)


def test_a_tampered_provenance_payload_is_refused(published: Published) -> None:
    store, mirror, digest = published.store(), mirror_of(published), published.manifest
    [attached] = [
        a
        for a in find_attached(store, digest, dsse.BUNDLE_MEDIA_TYPE)
        if a.manifest.annotations[dsse.PREDICATE_ANNOTATION] == SLSA_PREDICATE_TYPE
    ]
    bundle = json.loads(mirror_blob(store, attached.manifest.layers[0].to_json()))
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://attacker.invalid/builder"
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    subject = Descriptor(OCI_MANIFEST, digest, len(store.get_manifest(digest).data))
    attach(
        mirror,
        subject,
        dsse.BUNDLE_MEDIA_TYPE,
        (dsse.BUNDLE_MEDIA_TYPE, json.dumps(bundle).encode()),
        {dsse.PREDICATE_ANNOTATION: SLSA_PREDICATE_TYPE},
    )
    with pytest.raises(SignatureError) as refused:
        verify_provenance(mirror, digest, published.public(), "the mirror's copy")
    assert "the envelope's signature does not verify with the given public key" in str(
        refused.value
    )


def mirror_blob(store: RegistryStore, layer: dict[str, object]) -> bytes:
    """A layer's bytes, read through the store (verified)."""
    from ebpf_hub.oci.store import read_blob

    return read_blob(store, Descriptor.from_json(layer, "layer"), dsse.BUNDLE_LIMIT)


def other_artifact(store: RegistryStore, published: Published) -> Descriptor:
    """Another package artifact (the seed's manifest with one annotation more) in `store`."""
    manifest = json.loads(published.store().get_manifest(published.manifest).data)
    manifest["annotations"]["org.opencontainers.image.version"] = "2.0.0"
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    digest = store.put_manifest(data, OCI_MANIFEST, "2.0.0")
    return Descriptor(OCI_MANIFEST, digest, len(data))


def run_hub(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`ebpf-hub ARGS...` as a process, its data, cache and config under `home`."""
    env = {**os.environ, "EBPF_HUB_HOME": str(home)}
    command = [str(REPO / ".venv" / "bin" / "ebpf-hub"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def run_verify(published: Published, *extra: str, home: Path) -> subprocess.CompletedProcess[str]:
    keys = ["--hub", str(published.site), "--public-key", f"{published.key}.pub"]
    return run_hub("verify", SEED, *extra, *keys, home=home)


def test_verify_prints_the_whole_chain(published: Published, tmp_path: Path) -> None:
    result = run_verify(published, home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [
        "index",
        "digest",
        "signature",
        "provenance",
        "toolchain",
        "build",
        "source",
    ]
    assert "unsigned index: no TUF root installed" in lines[0]
    assert f"package {SEED} {published.version}" in lines[2]
    assert "clang" in lines[4] and "libbpf" in lines[4] and "bpftool" in lines[4]
    assert "vmlinux.h sha256:" in lines[5] and "-target bpf" in lines[5]
    assert f"the hub's sources/{SEED} at tree sha256:" in lines[6]
    assert lines[-1] == f"verified {SEED} {published.version} ({published.digest})"

    as_json = json.loads(run_verify(published, "--json", home=tmp_path / "home").stdout)
    assert as_json["digest"] == published.digest
    definition = as_json["provenance"]["buildDefinition"]
    assert definition["externalParameters"]["source"]["path"] == f"sources/{SEED}"


def test_verify_refuses_a_mirror_whose_signature_names_another_version(
    published: Published, tmp_path: Path
) -> None:
    mirror = mirror_of(published)
    sign(mirror, published.repository, published.digest, published.private(), Claims(SEED, "0.1.0"))
    result = run_verify(
        published,
        "--registry",
        f"{published.registry.host}/{mirror.repository.removesuffix('/' + SEED)}",
        home=tmp_path / "home",
    )
    assert result.returncode == 1
    # The index link held (and was printed); the signature's refusal is one line.
    index, refusal = result.stderr.splitlines()
    assert index.startswith("ok  index ")
    assert refusal.startswith("ebpf-hub: error: ")
    assert f"a signature is for {SEED} 0.1.0, not {SEED} {published.version}" in refusal


def tool(name: str) -> str:
    binary = TOOLS / name
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary}: missing; run scripts/fetch-tools (scripts/test does)")
    return str(binary)


def run_tool(*command: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_cosign_verifies_both_signature_forms_and_the_provenance(
    published: Published, tmp_path: Path
) -> None:
    cosign, key = tool("cosign"), f"{published.key}.pub"
    reference = f"{published.repository}@{published.digest}"
    common = ["--key", key, "--insecure-ignore-tlog", "--allow-http-registry"]
    claims = ["-a", f"package={SEED}", "-a", f"version={published.version}"]
    bundle = run_tool(cosign, "verify", *common, *claims, reference, home=tmp_path)
    assert bundle.returncode == 0, bundle.stderr
    assert "https://sigstore.dev/cosign/sign/v1" in bundle.stdout
    legacy = run_tool(
        cosign, "verify", *common, "--new-bundle-format=false", *claims, reference, home=tmp_path
    )
    assert legacy.returncode == 0, legacy.stderr
    assert "cosign container image signature" in legacy.stdout
    wrong = run_tool(cosign, "verify", *common, "-a", "version=9.9.9", reference, home=tmp_path)
    assert wrong.returncode != 0

    manifest = f"{published.repository}@{published.manifest}"
    attest = [cosign, "verify-attestation", *common, "--type", "slsaprovenance1", manifest]
    attested = run_tool(*attest, home=tmp_path)
    assert attested.returncode == 0, attested.stderr
    envelope = json.loads(attested.stdout.splitlines()[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == SLSA_PREDICATE_TYPE
    assert statement["subject"][0]["digest"]["sha256"] == published.manifest.removeprefix("sha256:")


def test_oras_and_crane_read_the_artifact_and_its_referrers(
    published: Published, tmp_path: Path
) -> None:
    crane, oras = tool("crane"), tool("oras")
    for digest, kind in (
        (published.digest, "https://sigstore.dev/cosign/sign/v1"),
        (published.manifest, SLSA_PREDICATE_TYPE),
    ):
        reference = f"{published.repository}@{digest}"
        discover = [oras, "discover", "--plain-http", "--format", "json", reference]
        discovered = run_tool(*discover, home=tmp_path)
        assert discovered.returncode == 0, discovered.stderr
        [referrer] = json.loads(discovered.stdout)["referrers"]
        assert referrer["annotations"][dsse.PREDICATE_ANNOTATION] == kind
        index_ref = f"{published.repository}:{referrers_tag(digest)}"
        index = run_tool(crane, "manifest", "--insecure", index_ref, home=tmp_path)
        assert index.returncode == 0, index.stderr
        listed = [m["digest"] for m in json.loads(index.stdout)["manifests"]]
        assert listed == [referrer["digest"]]
        found = run_tool(crane, "digest", "--insecure", reference, home=tmp_path)
        assert found.stdout.strip() == digest
    reference = f"{published.repository}@{published.manifest}"
    manifest = run_tool(crane, "manifest", "--insecure", reference, home=tmp_path)
    assert manifest.returncode == 0, manifest.stderr
    assert json.loads(manifest.stdout)["artifactType"] == "application/vnd.ebpf-hub.package.v1"


def test_a_claims_less_signature_still_binds_its_digest(published: Published) -> None:
    """Signatures made before the claims (or by `cosign sign` without -a) still verify."""
    mirror = mirror_of(published)
    sign(mirror, published.repository, published.digest, published.private())
    found = verify(
        mirror,
        published.repository,
        published.digest,
        published.public(),
        Claims(SEED, published.version),
    )
    assert (found.form, found.claims) == ("tag", None)


def test_verify_rebuild_reproduces_the_digest(published: Published, tmp_path: Path) -> None:
    result = run_verify(published, "--rebuild", "--root", str(published.root), home=tmp_path)
    assert result.returncode == 0, result.stderr
    rebuilt = result.stderr.splitlines()[-2]
    assert rebuilt == (
        f"ok  rebuild    {published.manifest} reproduced from the pinned source with the "
        "recorded toolchain"
    )


def test_a_toolchain_other_than_the_recorded_one_is_named(published: Published) -> None:
    recorded = verify_provenance(published.store(), published.manifest, published.public(), SEED)
    local = BuildInfo(
        "Debian clang version 19.1.7",
        recorded.flags,
        recorded.arch,
        recorded.vmlinux_btf_sha256,
    )
    [clang] = toolchain_differences(local, recorded)
    assert clang == f"clang: Debian clang version 19.1.7 here, {recorded.compiler} recorded"
    older = replace(recorded, toolchain={**recorded.toolchain, "libbpf": "0.8.1"})
    same = BuildInfo(recorded.compiler, recorded.flags, recorded.arch, recorded.vmlinux_btf_sha256)
    [libbpf] = toolchain_differences(same, older)
    assert libbpf.startswith("libbpf: ") and libbpf.endswith(", 0.8.1 recorded")


def test_verify_says_the_index_was_read_through_tuf(published: Published, tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    shutil.copytree(published.site, site)
    roots, keys, offline = tmp_path / "roots", tmp_path / "keys", tmp_path / "offline"
    for command in (
        ["init", "--roots", str(roots), "--root-keys-dir", str(offline), "--keys", str(keys)],
        ["sign", "--roots", str(roots), "--keys", str(keys), str(site / "api/v1")],
        ["install-root", "--hub", str(site), str(roots / "1.root.json")],
    ):
        done = run_hub("trust", *command, home=home)
        assert done.returncode == 0, done.stderr
    result = run_verify(replace(published, site=site), home=home)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"ok  index      TUF-verified from the root installed for {site}"
    )


def test_verify_rebuild_reproduces_every_seed(
    registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's bar: every seed package of this repository, published and signed here,
    is verified link by link and rebuilt to the same digest."""
    key, ledger, site = tmp_path / "hub-key", tmp_path / "digests.json", tmp_path / "site"
    assert main(["keygen", str(key)]) == 0
    registry_ns = f"{registry.host}/seeds-{uuid.uuid4().hex[:8]}"
    publish = ["publish", "--root", str(REPO), "--all", "--registry", registry_ns, "--insecure"]
    assert main([*publish, "--sign-key", f"{key}.key", "--ledger", str(ledger)]) == 0
    index = ["index", "--root", str(REPO), "--out", str(site), "--digests", str(ledger)]
    assert main([*index, "--registry", registry_ns]) == 0
    capsys.readouterr()
    seeds = json.loads(ledger.read_text())
    assert len(seeds) >= 10
    for name, versions in sorted(seeds.items()):
        for version in versions:
            result = run_hub(
                "verify",
                f"{name}@{version}",
                "--rebuild",
                "--root",
                str(REPO),
                "--hub",
                str(site),
                "--public-key",
                f"{key}.pub",
                home=tmp_path / "home",
            )
            assert result.returncode == 0, f"{name}: {result.stderr}"
            assert "reproduced from the pinned source" in result.stderr.splitlines()[-2]
