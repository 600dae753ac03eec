"""`ebpf-hub policy check`: what the policy files say of a package version, rule by rule."""

from __future__ import annotations

import argparse

from ebpf_hub.client.console import show, show_json
from ebpf_hub.commands.client import add_client_options, settings_from
from ebpf_hub.commands.common import add_command


def cmd_policy_check(args: argparse.Namespace) -> int:
    from ebpf_hub.client.policy import POLICY_FILES, SYSTEM_POLICY_DIR
    from ebpf_hub.client.policycheck import check
    from ebpf_hub.paths import config_dir

    policy, decision = check(settings_from(args), args.package)
    candidate = decision.candidate
    if args.json:
        show_json(
            {
                "package": candidate.name,
                "version": candidate.version,
                "digest": candidate.digest,
                "repository": candidate.repository,
                "allowed": decision.allowed,
                "files": [str(file.path) for file in policy.files],
                "findings": [finding.to_json() for finding in decision.findings],
            }
        )
        return 0 if decision.allowed else 1
    digest = candidate.digest[:19]
    show(f"{candidate.name} {candidate.version} ({digest}) from {candidate.repository}")
    if not policy.files:
        places = f"{SYSTEM_POLICY_DIR} or {config_dir()}"
        show(f"  no policy file ({' or '.join(POLICY_FILES)} in {places}): nothing is restricted")
    for finding in decision.findings:
        verdict = "allowed" if finding.allowed else "REFUSED"
        show(f"  {verdict:8} {finding.rule:18} {finding.path}: {finding.reason}")
    show(f"decision: {'allowed' if decision.allowed else 'refused'}")
    return 0 if decision.allowed else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = commands.add_parser(
        "policy",
        help="what the policy files allow",
        description="The policy files (/etc/ebpf-hub/policy.toml for the system, policy.toml "
        "in the config directory for the user, who can only narrow the system's) say which "
        "packages, registries and digests may be installed and run, whether signatures are "
        "required, and which dangerous capabilities each package may use.",
    )
    actions = policy.add_subparsers(dest="action", metavar="ACTION", required=True)
    checked = add_command(
        actions,
        "check",
        cmd_policy_check,
        "explain the decision on a package version",
        "Resolve NAME[@VERSION] as `install` does and show what each rule of each policy file "
        "says of it: allowed or refused, and why. Exit status 0 when allowed, 1 when refused.",
    )
    checked.add_argument("package", metavar="NAME[@VERSION]")
    add_client_options(checked, registry=True)
