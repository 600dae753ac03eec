"""SLSA provenance v1 of a package artifact: an in-toto statement, signed in a DSSE envelope,
attached to the artifact as an OCI referrer (the same layout cosign 3 uses for
``cosign attest``, so ``cosign verify-attestation --type slsaprovenance1`` reads it too).

The predicate records what `ebpf-hub verify` checks and `--rebuild` needs: the pinned source
(repository and commit, or the tree hash of an in-repo source), the builder (the CI workflow
and run, or this machine), the toolchain (clang, libbpf, bpftool), the kernel BTF that
``vmlinux.h`` was generated from and the header's own digest, the target and the flags.
site/reference/artifact.md documents each field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.oci.attestation import attach_statement, verified_predicates
from ebpf_hub.oci.errors import SignatureError
from ebpf_hub.oci.manifest import Descriptor
from ebpf_hub.oci.store import Store

SLSA_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/ebpf-hub/ebpf-hub/blob/main/site/reference/artifact.md#provenance"
LOCAL_BUILDER = "urn:ebpf-hub:builder:local"
VMLINUX_H = "vmlinux.h"
VMLINUX_BTF = "vmlinux BTF"


@dataclass(frozen=True)
class Provenance:
    """What the provenance of one artifact says (the SLSA v1 predicate, typed)."""

    package: str
    version: str
    source: Mapping[str, str]  # the artifact config's `source`: git/path, subdir, commit/tree
    compiler: str
    flags: tuple[str, ...]
    arch: str
    vmlinux_btf_sha256: str
    builder_id: str
    toolchain: Mapping[str, str]  # clang, libbpf, bpftool versions
    invocation: str | None = None  # the CI run's URL
    vmlinux_h_sha256: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. the hub repository's commit

    def predicate(self) -> dict[str, Any]:
        """The SLSA provenance v1 predicate."""
        source = dict(self.source)
        pin = (
            {"gitCommit": source["commit"]}
            if source.get("commit")
            else {"ebpfHubTree": source.get("tree", "")}
        )
        dependencies: list[dict[str, Any]] = [
            {"uri": source.get("git") or f"hub:{source.get('path', '')}", "digest": pin},
            {"name": VMLINUX_BTF, "digest": {"sha256": self.vmlinux_btf_sha256}},
        ]
        if self.vmlinux_h_sha256:
            dependencies.append({"name": VMLINUX_H, "digest": {"sha256": self.vmlinux_h_sha256}})
        metadata = {"invocationId": self.invocation} if self.invocation else {}
        return {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "package": self.package,
                    "version": self.version,
                    "source": source,
                },
                "internalParameters": {
                    "compiler": self.compiler,
                    "flags": list(self.flags),
                    "arch": self.arch,
                    **dict(self.extra),
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": self.builder_id, "version": dict(self.toolchain)},
                "metadata": metadata,
            },
        }

    @classmethod
    def from_predicate(cls, predicate: Mapping[str, Any], where: str) -> Provenance:
        """The provenance a verified statement carries; a malformed one is refused."""
        try:
            definition = predicate["buildDefinition"]
            if definition["buildType"] != BUILD_TYPE:
                raise ValueError(f"build type {definition['buildType']!r}")
            external = definition["externalParameters"]
            internal = dict(definition["internalParameters"])
            digests = {
                entry["name"]: entry["digest"]["sha256"]
                for entry in definition["resolvedDependencies"]
                if "name" in entry
            }
            builder = predicate["runDetails"]["builder"]
            metadata = predicate["runDetails"].get("metadata") or {}
            known = {"compiler", "flags", "arch"}
            return cls(
                package=str(external["package"]),
                version=str(external["version"]),
                source={str(k): str(v) for k, v in external["source"].items()},
                compiler=str(internal["compiler"]),
                flags=tuple(str(flag) for flag in internal["flags"]),
                arch=str(internal["arch"]),
                vmlinux_btf_sha256=str(digests[VMLINUX_BTF]),
                builder_id=str(builder["id"]),
                toolchain={str(k): str(v) for k, v in (builder.get("version") or {}).items()},
                invocation=metadata.get("invocationId"),
                vmlinux_h_sha256=digests.get(VMLINUX_H),
                extra={k: str(v) for k, v in internal.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SignatureError(
                f"{where}: not an eBPF Hub SLSA provenance ({exc}); refusing it"
            ) from None


def attach_provenance(
    store: Store, subject: Descriptor, provenance: Provenance, key: ec.EllipticCurvePrivateKey
) -> bool:
    """Sign ``provenance`` about ``subject`` and attach it; False if it was there already."""
    name = f"{provenance.package}@{provenance.version}"
    return attach_statement(
        store, subject, SLSA_PREDICATE_TYPE, provenance.predicate(), key, name=name
    )


def verified_provenances(
    store: Store, digest: str, public_key: ec.EllipticCurvePublicKey, problems: list[str]
) -> list[Provenance]:
    """Every provenance of ``digest`` signed by ``public_key`` about exactly ``digest``; why
    each other one was refused goes to ``problems``."""
    found: list[Provenance] = []
    predicates = verified_predicates(
        store, digest, SLSA_PREDICATE_TYPE, public_key, problems, what="provenance"
    )
    for predicate in predicates:
        try:
            found.append(Provenance.from_predicate(predicate, f"{store.name}@{digest}"))
        except SignatureError as exc:
            problems.append(str(exc))
    return found


def verify_provenance(
    store: Store, digest: str, public_key: ec.EllipticCurvePublicKey, where: str
) -> Provenance:
    """The one provenance of ``digest`` that verifies; :class:`SignatureError` if none does."""
    problems: list[str] = []
    found = verified_provenances(store, digest, public_key, problems)
    if found:
        return found[-1]  # the latest attached: a rebuild's provenance follows the first's
    if not problems:
        raise SignatureError(
            f"{where} has no provenance: {store.name} lists no SLSA provenance referrer for it; "
            "publish it again with a signing key"
        )
    raise SignatureError(f"{where}: no valid provenance ({'; '.join(dict.fromkeys(problems))})")
