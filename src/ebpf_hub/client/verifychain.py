"""`ebpf-hub verify`: the chain of trust of one hub version, link by link, each one checked.

index (TUF-verified when the hub's root is installed, else said to be unsigned) -> the digest
it pins (the manifest and every blob hashed) -> the signature (either cosign form, the hub's
key, naming this package and version) -> the signed SLSA provenance about exactly the manifest
installed (this machine's one when the digest is an image index) -> the source pin, which the
index, the artifact's config and the provenance must all name. The first link that does not
hold stops the chain with one line saying why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.client.fetch import Fetched, cached_view, fetch
from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.install import hub_source
from ebpf_hub.client.resolve import parse_spec, resolve
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HubConfig
from ebpf_hub.model.index import IndexVersion
from ebpf_hub.oci.attestation import verified_predicates
from ebpf_hub.oci.dsse import key_hint
from ebpf_hub.oci.keyenv import PUBLIC_KEY_ENV
from ebpf_hub.oci.keys import load_public_key
from ebpf_hub.oci.provenance import Provenance, verify_provenance
from ebpf_hub.oci.signing import FORM_NAMES
from ebpf_hub.oci.store import Store
from ebpf_hub.trust.roots import installed_root


@dataclass(frozen=True)
class Link:
    """One checked link of the chain: what it is and what was found."""

    name: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"link": self.name, "checked": self.detail}


@dataclass(frozen=True)
class Chain:
    """Every link of a verified version, in order, and its provenance."""

    package: str
    version: str
    digest: str
    links: tuple[Link, ...]
    provenance: Provenance

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "digest": self.digest,
            "chain": [link.to_json() for link in self.links],
            "provenance": self.provenance.predicate(),
        }


Report = Callable[[Link], None]


def _index_link(settings: Settings) -> Link:
    if installed_root(settings.hub_url) is not None:
        return Link("index", f"TUF-verified from the root installed for {settings.hub_url}")
    return Link(
        "index",
        f"unsigned index: no TUF root installed for {settings.hub_url} "
        "(`ebpf-hub trust install-root`); the links below hold regardless",
    )


def _pin(entry: IndexVersion) -> dict[str, str]:
    return {"commit": entry.commit} if entry.commit else {"tree": entry.tree or ""}


def _source_link(entry: IndexVersion, fetched: Fetched, provenance: Provenance) -> Link:
    """The index's pin, the config's source and the provenance's source must be one."""
    config_source = {k: str(v) for k, v in fetched.config.source.to_json().items()}
    pin = _pin(entry)
    where = f"{fetched.config.name} {fetched.config.version}"
    if dict(provenance.source) != config_source:
        raise HubError(
            f"{where}: the provenance names source {provenance.source}, the artifact "
            f"{config_source}; refusing it",
            hint="report it to the hub",
        )
    if any(config_source.get(k) != v for k, v in pin.items()):
        raise HubError(
            f"{where}: the index pins {pin}, the artifact was built from {config_source}",
            hint="report it to the hub",
        )
    origin = config_source.get("git") or f"the hub's {config_source.get('path')}"
    return Link("source", f"{origin} at {' '.join(f'{k} {v}' for k, v in pin.items())}")


def _build_problem(fetched: Fetched, provenance: Provenance) -> str | None:
    config, build = fetched.config, fetched.config.build
    recorded = (provenance.package, provenance.version, provenance.compiler, provenance.flags)
    if recorded != (config.name, config.version, build.compiler, build.flags):
        return "the provenance and the artifact's config disagree on the package or build"
    if (provenance.arch, provenance.vmlinux_btf_sha256) != (build.arch, build.vmlinux_btf_sha256):
        return "the provenance and the artifact's config disagree on the target or kernel BTF"
    return None


def _provenance_links(provenance: Provenance) -> list[Link]:
    run = f", run {provenance.invocation}" if provenance.invocation else ""
    tools = ", ".join(f"{k} {v}" for k, v in provenance.toolchain.items())
    header = (
        f"vmlinux.h sha256:{provenance.vmlinux_h_sha256} from "
        if provenance.vmlinux_h_sha256
        else ""
    )
    return [
        Link(
            "provenance",
            f"SLSA v1, signed by the hub's key, about exactly that manifest; "
            f"builder {provenance.builder_id}{run}",
        ),
        Link("toolchain", tools),
        Link(
            "build",
            f"{provenance.arch}, {header}kernel BTF sha256:"
            f"{provenance.vmlinux_btf_sha256}, flags {' '.join(provenance.flags)}",
        ),
    ]


def _rebuild_link(hub: HubConfig, provenance: Provenance, manifest: str) -> Link:
    """Rebuild from the pinned source here; the digest must be the manifest's."""
    from ebpf_hub.publish.rebuild import rebuild

    rebuilt = rebuild(hub, provenance)
    differs = "; ".join(rebuilt.differences)
    if rebuilt.digest != manifest:
        cause = (
            f"the local toolchain differs from the recorded one ({differs})"
            if differs
            else "with the recorded toolchain: the artifact was not built from what its "
            "provenance says"
        )
        raise HubError(
            f"rebuilt {provenance.package} {provenance.version} as {rebuilt.digest}, not "
            f"{manifest}, {cause}",
            hint="rebuild with the recorded toolchain" if differs else "report it to the hub",
        )
    toolchain = f" (although {differs})" if differs else " with the recorded toolchain"
    return Link("rebuild", f"{manifest} reproduced from the pinned source{toolchain}")


def verify_chain(
    settings: Settings,
    text: str,
    report: Report | None = None,
    rebuild_from: HubConfig | None = None,
) -> Chain:
    """Check every link for `NAME[@VERSION]`; each is reported as it holds. With
    `rebuild_from` (a hub checkout), the version is also rebuilt and its digest compared."""
    links: list[Link] = []

    def holds(link: Link) -> None:
        links.append(link)
        if report is not None:
            report(link)

    if settings.public_key is None:
        raise HubError(
            "cannot verify: no public key is configured",
            hint=f"set {PUBLIC_KEY_ENV} or pass --public-key FILE (the hub's signing key)",
        )
    key = load_public_key(settings.public_key)
    name, spec = parse_spec(text)
    with HubIndex(settings) as hub:
        entry = resolve(hub.package(name), spec).version
    holds(_index_link(settings))
    if entry.digest is None:
        raise HubError(f"{name} {entry.version} is not published yet (no digest in the index)")
    source = hub_source(settings, name, entry)
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-verify-") as scratch:
        fetched = fetch(
            settings,
            source,
            entry.digest,
            Path(scratch) / "artifact",
            allow_unsigned=False,
            expect=(name, entry.version),
        )
    where = source.pinned(entry.digest)
    files, manifest = len(fetched.artifact.files), fetched.manifest or entry.digest
    via = f" (the image index), {manifest} (its {fetched.config.build.arch} manifest)"
    holds(
        Link(
            "digest",
            f"{entry.digest}{via if manifest != entry.digest else ''}: the manifest, its config "
            f"and {files} files hash to it",
        )
    )
    signature = fetched.signature
    if signature is None:  # let through by `require_signatures = false`, with its warning
        raise HubError(
            f"{where}: no signature verified (see the warning above); verify requires one",
            hint="check --public-key / the configured key",
        )
    named = f"repository {signature.identity}, " if signature.identity else ""
    claims = f"package {signature.claims}" if signature.claims else "no package (digest only)"
    holds(
        Link(
            "signature",
            f"{FORM_NAMES[signature.form]}, key sha256:{key_hint(key)}, names {named}{claims}",
        )
    )
    # Through the blob cache, as the artifact was: what `import` brought verifies offline.
    with cached_view(source, settings) as view:
        provenance = verify_provenance(view, manifest, key, source.pinned(manifest))
        matrix = _matrix_link(view, entry.digest, key)
    problem = _build_problem(fetched, provenance)
    if problem is not None:
        raise HubError(f"{where}: {problem}; refusing it", hint="report it to the hub")
    for link in _provenance_links(provenance):
        holds(link)
    holds(_source_link(entry, fetched, provenance))
    if matrix is not None:
        holds(matrix)
    if rebuild_from is not None:
        holds(_rebuild_link(rebuild_from, provenance, manifest))
    return Chain(name, entry.version, entry.digest, tuple(links), provenance)


def _matrix_link(store: Store, digest: str, key: ec.EllipticCurvePublicKey) -> Link | None:
    """The signed kernel-matrix record attached to `digest`, if publish attached one."""
    from ebpf_hub.matrix.record import PREDICATE_TYPE, VersionMatrix

    records = verified_predicates(store, digest, PREDICATE_TYPE, key, what="kernel-matrix record")
    if not records:
        return None
    record = VersionMatrix.from_json(records[-1])
    tested = ", ".join(f"{k.label} {k.verdict().status.value}" for k in record.kernels)
    return Link("kernel matrix", f"signed record, {len(record.kernels)} kernels ({tested})")
