"""Which packages this machine may install and run: the system's policy, narrowed by the user's.

A policy file (`policy.toml`, or `policy.yaml`) lives in `/etc/ebpf-hub/` for the whole
system and in the user's config directory (`$XDG_CONFIG_HOME/ebpf-hub/`) for one user. Every
key is a rule; a key left out does not restrict:

    packages = ["execsnoop", "tcp*"]          # names (shell patterns) that may be installed
    registries = ["ghcr.io/ebpf-hub/packages"] # where artifacts may come from (prefixes)
    digests = ["sha256:..."]                   # the only artifacts allowed, by digest
    require_signatures = true                  # the default: a verified signature, always
    [capabilities]                             # dangerous hooks and calls, per package pattern
    "xdp*" = ["xdp", "bpf_redirect"]           # (a package matching no pattern may use none)

A version must satisfy every rule of every file, so the user's file can only narrow what the
system's allows: a user writing `packages = ["*"]` or `require_signatures = false` gains
nothing the system's file refuses. With no file at all nothing is restricted (as before
policies existed). The capabilities are those `ebpf_hub.bpfobj.capabilities` reads from the
objects' bytes (hooks such as `xdp`, `fmod_ret`; helpers such as `bpf_probe_write_user`;
kfuncs), never what the package claims. `install` and `run` enforce the policy (`enforce`):
a refusal is one line naming the rule and its file. Both files are security settings, so
they are read only if no one but their owner (root, or the user) could have written them: no
link, no file or directory of another user, none writable by group or others.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpf_hub.errors import HubError
from ebpf_hub.paths import config_dir
from ebpf_hub.privatedir import open_private_file
from ebpf_hub.safetext import quote

if TYPE_CHECKING:
    from ebpf_hub.bpfobj.capabilities import Danger
    from ebpf_hub.client.installed import InstalledPackage

SYSTEM_POLICY_DIR = Path("/etc/ebpf-hub")
POLICY_FILES = ("policy.toml", "policy.yaml")
POLICY_LIMIT = 1024 * 1024
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HELP = {
    "packages": 'a list of package names or shell patterns, e.g. ["execsnoop", "tcp*"]',
    "registries": 'a list of REGISTRY/NAMESPACE prefixes (or oci:DIR), e.g. ["ghcr.io/org"]',
    "digests": 'a list of artifact digests, e.g. ["sha256:<64 hex digits>"]',
    "require_signatures": "true or false (default true)",
    "capabilities": "a table of package patterns to lists of hook, helper or kfunc names, e.g. "
    '{"xdp*" = ["xdp", "bpf_redirect"]}',
}


@dataclass(frozen=True)
class PolicyFile:
    """One policy file's rules; None: the file does not restrict that way."""

    path: Path
    packages: tuple[str, ...] | None = None
    registries: tuple[str, ...] | None = None
    digests: tuple[str, ...] | None = None
    require_signatures: bool = True
    capabilities: tuple[tuple[str, tuple[str, ...]], ...] | None = None


@dataclass(frozen=True)
class Candidate:
    """A package version as a policy judges it. `repository` is where its bytes come from
    (`HOST/NAMESPACE/NAME` or `oci:DIR`); `signed` and `dangers` are None until known (the
    artifact fetched, its objects read)."""

    name: str
    version: str
    repository: str
    digest: str
    signed: bool | None = None
    dangers: tuple[Danger, ...] | None = None
    dangers_declared: bool = False  # `dangers` are what the package claims, not its objects'

    @classmethod
    def installed(cls, package: InstalledPackage) -> Candidate:
        """An installed package: where it was pulled from, whether it verified."""
        repository = package.reference.rpartition("@")[0]
        return cls(package.name, package.version, repository, package.digest, package.verified)


@dataclass(frozen=True)
class Finding:
    """What one rule of one file says of a candidate."""

    rule: str
    path: Path
    allowed: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "file": str(self.path),
            "allowed": self.allowed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Decision:
    """Every finding about one candidate: allowed only if each rule allows it."""

    candidate: Candidate
    findings: tuple[Finding, ...]

    @property
    def allowed(self) -> bool:
        return all(finding.allowed for finding in self.findings)

    def enforce(self) -> None:
        """Raise the first refusal as one line: what, why, which rule of which file."""
        for finding in self.findings:
            if not finding.allowed:
                raise HubError(
                    f"policy refuses {self.candidate.name} {self.candidate.version}: "
                    f"{finding.reason} ({finding.rule} in {finding.path})",
                    hint=f"`ebpf-hub policy check {self.candidate.name}` explains the decision",
                )


@dataclass(frozen=True)
class Policy:
    """The policy files in force: the system's, then the user's."""

    files: tuple[PolicyFile, ...]

    @classmethod
    def load(cls) -> Policy:
        found = (_read(SYSTEM_POLICY_DIR, system=True), _read(config_dir(), system=False))
        return cls(tuple(file for file in found if file is not None))

    @property
    def reads_objects(self) -> bool:
        """Whether a decision needs the capabilities of the objects."""
        return any(file.capabilities is not None for file in self.files)

    def judge(self, candidate: Candidate) -> Decision:
        findings = [
            finding
            for file in self.files
            for rule in _RULES
            if (finding := rule(file, candidate)) is not None
        ]
        return Decision(candidate, tuple(findings))


def enforce(candidate: Candidate, objects: Sequence[Path] | None = None) -> None:
    """Refuse what the policy files do not allow (nothing, without any file); `objects` (the
    fetched or installed objects) are read only when a capabilities rule needs them."""
    policy = Policy.load()
    if objects is not None and policy.reads_objects:
        from ebpf_hub.bpfobj.capabilities import object_capabilities

        candidate = replace(candidate, dangers=object_capabilities(objects).everything())
    policy.judge(candidate).enforce()


def _packages(file: PolicyFile, candidate: Candidate) -> Finding | None:
    if file.packages is None:
        return None
    match = next((p for p in file.packages if fnmatch.fnmatchcase(candidate.name, p)), None)
    if match is None:
        return Finding("packages", file.path, False, f"{candidate.name} is not a package it allows")
    return Finding("packages", file.path, True, f"{candidate.name} matches {quote(match)}")


def _registries(file: PolicyFile, candidate: Candidate) -> Finding | None:
    if file.registries is None:
        return None
    repository = candidate.repository
    match = next((r for r in file.registries if repository.startswith(r.rstrip("/") + "/")), None)
    if match is None:
        return Finding(
            "registries", file.path, False, f"{quote(repository)} is not in a registry it allows"
        )
    return Finding("registries", file.path, True, f"{quote(repository)} is in {quote(match)}")


def _digests(file: PolicyFile, candidate: Candidate) -> Finding | None:
    if file.digests is None:
        return None
    allowed = candidate.digest in file.digests
    verb = "is" if allowed else "is not"
    return Finding("digests", file.path, allowed, f"{candidate.digest} {verb} a digest it allows")


def _signatures(file: PolicyFile, candidate: Candidate) -> Finding | None:
    if not file.require_signatures:
        return Finding("require_signatures", file.path, True, "signatures are not required")
    if candidate.signed is None:
        return Finding(
            "require_signatures",
            file.path,
            True,
            "a verified signature is required (checked when it is fetched)",
        )
    if candidate.signed:
        return Finding("require_signatures", file.path, True, "its signature verified")
    return Finding(
        "require_signatures", file.path, False, "its signature is missing or did not verify"
    )


def _capabilities(file: PolicyFile, candidate: Candidate) -> Finding | None:
    if file.capabilities is None or candidate.dangers is None:
        return None
    allowed = {
        name
        for pattern, names in file.capabilities
        if fnmatch.fnmatchcase(candidate.name, pattern)
        for name in names
    }
    whose = "the package declares" if candidate.dangers_declared else "its objects have"
    refused = [d for d in candidate.dangers if d.name not in allowed and "*" not in allowed]
    if refused:
        danger = refused[0]
        return Finding(
            "capabilities",
            file.path,
            False,
            f"it can {danger.action} {danger.name}, which {danger.effect} ({whose} it), "
            f"not allowed for {candidate.name}",
        )
    names = ", ".join(d.name for d in candidate.dangers) or "none"
    return Finding(
        "capabilities", file.path, True, f"every dangerous capability {whose} is allowed: {names}"
    )


_RULES: tuple[Callable[[PolicyFile, Candidate], Finding | None], ...] = (
    _packages,
    _registries,
    _digests,
    _signatures,
    _capabilities,
)


def _read(directory: Path, *, system: bool) -> PolicyFile | None:
    """The policy file in `directory`, checked (see the module docstring); None if none."""
    present = [name for name in POLICY_FILES if os.path.lexists(directory / name)]
    if not present:
        return None
    if len(present) > 1:
        raise HubError(
            f"{directory} has both {' and '.join(present)}", hint="keep one policy file there"
        )
    path = directory / present[0]
    try:
        with open_private_file(directory, present[0]) as handle:
            status = os.fstat(handle.fileno())
            raw = handle.read(POLICY_LIMIT + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HubError(f"cannot read the policy file {path} ({exc.strerror or exc})") from None
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise HubError(
            f"the policy file {path} is writable by other users, so it is not trusted",
            hint=f"run `chmod go-w {path}`",
        )
    if system and status.st_uid != 0:
        raise HubError(
            f"the system policy file {path} does not belong to root, so it is not trusted",
            hint=f"run `chown root {path}`",
        )
    if len(raw) > POLICY_LIMIT:
        raise HubError(f"the policy file {path} is larger than {POLICY_LIMIT} bytes")
    return _parse(path, raw)


def _parse(path: Path, raw: bytes) -> PolicyFile:
    import yaml

    from ebpf_hub import tomlparse  # only when a policy file exists

    try:
        text = raw.decode("utf-8")
        toml = path.suffix == ".toml"
        data: object = tomlparse.loads(text) if toml else yaml.safe_load(text) or {}
    except (UnicodeDecodeError, ValueError) as exc:
        raise HubError(f"{path}: not valid {path.suffix[1:].upper()} ({exc})") from None
    except yaml.YAMLError as exc:
        raise HubError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise HubError(
            f"{path}: a policy file is a table of rules", hint=f"the keys are {', '.join(_HELP)}"
        )
    for key, value in data.items():
        if key not in _HELP:
            raise HubError(
                f"{path}: unknown key {quote(str(key))}", hint=f"the keys are {', '.join(_HELP)}"
            )
        if not _valid(key, value):
            raise HubError(f"{path}: {key} is not valid", hint=f"{key} must be {_HELP[key]}")
    capabilities = data.get("capabilities")
    return PolicyFile(
        path,
        packages=_strings(data.get("packages")),
        registries=_strings(data.get("registries")),
        digests=_strings(data.get("digests")),
        require_signatures=data.get("require_signatures", True),
        capabilities=None
        if capabilities is None
        else tuple((pattern, tuple(names)) for pattern, names in capabilities.items()),
    )


def _valid(key: str, value: object) -> bool:
    if key == "require_signatures":
        return isinstance(value, bool)
    if key == "capabilities":
        return isinstance(value, dict) and all(
            isinstance(pattern, str) and _string_list(names) for pattern, names in value.items()
        )
    if key == "digests":
        return (
            isinstance(value, list) and _string_list(value) and all(map(_DIGEST.fullmatch, value))
        )
    return _string_list(value)


def _string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _strings(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)
