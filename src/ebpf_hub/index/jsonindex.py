"""`ebpf-hub index`: the JSON index that scripts, the client and the site read.

`api/v1/index.json` is small enough to search; `api/v1/packages/<name>.json` holds one package
in full, so a client resolving one package downloads one small file (a sparse index, like
cargo's). Output is byte-for-byte deterministic and replaces the previous tree atomically.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import replace_directory
from ebpf_hub.index.trust import HubTrust, VersionTrust, package_trust
from ebpf_hub.model.index import Published
from ebpf_hub.model.matrix import KernelVerdict, Matrices
from ebpf_hub.model.package import Package, Version

API_VERSION = 1
API_DIR = Path("api/v1")

# name -> version -> what the registry holds, as recorded by `ebpf-hub publish` or read back
# from the registry (`ebpf_hub.publish.ledger`); the site never serves it back as a store.
Digests = Mapping[str, Mapping[str, Published]]


def to_json_bytes(data: Any) -> bytes:
    """The one serialization of every file in the index: sorted keys, compact, UTF-8."""
    return (
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode()


def load_digests(path: Path | None) -> Digests:
    """Read the digest ledger written by publish; none yet means no digests."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise HubError(f"{path}: cannot read the digest ledger ({exc}); re-run publish") from None
    return digests_from_json(data, str(path))


def digests_from_json(data: Any, where: str) -> Digests:
    """The ledger in its JSON form, `{name: {version: {digest, size, parameters}}}`."""
    try:
        return {
            name: {version: Published.from_json(entry) for version, entry in versions.items()}
            for name, versions in data.items()
        }
    except (AttributeError, KeyError, TypeError):
        raise HubError(
            f"{where}: not a digest ledger ({{name: {{version: {{digest, size, parameters}}}}}})",
            hint="re-run publish, or build the index with --digests-from-registry",
        ) from None


def digests_json(digests: Digests) -> dict[str, dict[str, dict[str, Any]]]:
    """The ledger's JSON form (what `load_digests` reads)."""
    return {
        name: {version: entry.to_json() for version, entry in versions.items()}
        for name, versions in digests.items()
    }


def summary_entry(package: Package) -> dict[str, Any]:
    """A package as index.json lists it: enough to search and to pick a version."""
    latest = package.latest
    return {
        "name": package.name,
        "summary": package.summary,
        "license": package.license,
        "categories": list(package.categories),
        "keywords": list(package.keywords),
        "latest": latest.version if latest else None,
        "updated": package.versions[-1].created,
        "versions": [
            {"version": v.version, "created": v.created, "yanked": v.yanked is not None}
            for v in package.versions
        ],
    }


def package_entry(
    package: Package,
    registry: str,
    digests: Digests,
    matrices: Matrices | None = None,
    *,
    index_signed: bool = False,
    trusts: Mapping[str, VersionTrust] | None = None,
) -> dict[str, Any]:
    """A package in full, each version with its OCI reference and, once published, its digest
    (and, once tested, its kernel matrix's verdicts), and its evidence (`index.trust`):
    `trusts`, by version, when the caller made it already (`hub_trust`, same arguments)."""
    known = digests.get(package.name, {})
    tested = (matrices or {}).get(package.name, {})
    if trusts is None:
        trusts = package_trust(package, registry, known, tested, index_signed=index_signed)
    latest = package.latest
    entry = package.to_json()
    entry.update(
        api_version=API_VERSION,
        latest=latest.version if latest else None,
        programs=[
            {
                "name": p.name,
                "section": p.section,
                "attach": p.attach,
                "description": p.description or "",
                **({"optional": True} if p.optional else {}),
            }
            for p in package.programs
        ],
        versions=[
            _version_entry(
                package,
                v,
                registry,
                known.get(v.version),
                tested.get(v.version),
                trust=trusts[v.version],
            )
            for v in package.versions
        ],
    )
    return entry


def _version_entry(
    package: Package,
    version: Version,
    registry: str,
    published: Published | None,
    matrix: tuple[KernelVerdict, ...] | None,
    *,
    trust: VersionTrust,
) -> dict[str, Any]:
    repository = f"{registry}/{package.name}"
    digest = published.digest if published else None
    entry = {
        "version": version.version,
        "created": version.created,
        "changes": version.changes,
        "commit": version.commit,
        "tree": version.tree,
        "yanked": version.yanked,
        "ref": f"{repository}:{version.version}",
        "digest": digest,
        "size": published.size if published else None,
        "pinned": f"{repository}@{digest}" if digest else None,
        "parameters": [p.to_json() for p in published.parameters] if published else None,
        "trust": trust.evidence.to_json(),
    }
    if matrix is not None:
        entry["matrix"] = [verdict.to_json() for verdict in matrix]
    return entry


def build_index(
    packages: Iterable[Package],
    registry: str,
    digests: Digests,
    matrices: Matrices | None = None,
    *,
    index_signed: bool = False,
    trusts: HubTrust | None = None,
) -> dict[Path, bytes]:
    """Every file of the JSON index, by path relative to the output directory; `matrices`
    (the matrix ledger's summary) adds each tested version's kernel verdicts; `index_signed`:
    the files will be signed with TUF, which each version's `trust` says; `trusts`: every
    version's evidence when the caller made it already for the package pages (`hub_trust`,
    same arguments), else it is made here."""
    ordered = sorted(packages, key=lambda p: p.name)
    files = {
        API_DIR / "index.json": to_json_bytes(
            {
                "api_version": API_VERSION,
                "registry": registry,
                "packages": [summary_entry(p) for p in ordered],
            }
        ),
    }
    for package in ordered:
        files[API_DIR / "packages" / f"{package.name}.json"] = to_json_bytes(
            package_entry(
                package,
                registry,
                digests,
                matrices,
                index_signed=index_signed,
                trusts=trusts[package.name] if trusts is not None else None,
            )
        )
    return files


def write_index(files: Mapping[Path, bytes], out: Path) -> None:
    """Write the index under `out`, replacing any previous `api/v1` only once all is written."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / API_DIR
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=target.parent, prefix=".v1.new."))
    try:
        for relative, data in files.items():
            path = staged / relative.relative_to(API_DIR)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o644)
        staged.chmod(0o755)
        replace_directory(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
