"""`ebpf-hub policy check`: the decision the policy files make on a version, before installing.

The version is resolved as `install` resolves it. What the policy judges is known in full only
for the installed digest (whether its signature verified, what its objects can do); for a
version not installed yet the capabilities are those its package declares (the build refuses
objects that do more, and `install` checks the objects themselves), and the signature rule
says it will be checked at the install.
"""

from __future__ import annotations

from dataclasses import replace

from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.install import hub_source
from ebpf_hub.client.installed import find_installed
from ebpf_hub.client.policy import Candidate, Decision, Policy
from ebpf_hub.client.resolve import parse_spec, resolve
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError


def check(settings: Settings, text: str) -> tuple[Policy, Decision]:
    """The policy in force, and its decision on the version `NAME[@VERSION]` names."""
    from ebpf_hub.bpfobj.capabilities import declared_dangers, declared_hooks, object_capabilities

    name, spec = parse_spec(text)
    with HubIndex(settings) as hub:
        package = hub.package(name)
    entry = resolve(package, spec).version
    if entry.digest is None:
        raise HubError(f"{name} {entry.version} is not published yet (the hub lists no digest)")
    repository = hub_source(settings, name, entry).location.name
    candidate = Candidate(name, entry.version, repository, entry.digest)
    policy = Policy.load()
    installed = find_installed(name)
    if installed is not None and installed.digest == entry.digest:
        candidate = replace(candidate, signed=installed.verified)
        if policy.reads_objects:
            dangers = object_capabilities(installed.objects).everything()
            candidate = replace(candidate, dangers=dangers)
    elif policy.reads_objects:
        declared = declared_hooks(package.permissions) + declared_dangers(package.permissions)
        candidate = replace(candidate, dangers=declared, dangers_declared=True)
    return policy, policy.judge(candidate)
