"""`ebpf-hub verify NAME[@VERSION]`: print the chain of trust of a hub version, each link
checked (`ebpf_hub.client.verifychain`)."""

from __future__ import annotations

import argparse

from ebpf_hub.client.console import say, show_json
from ebpf_hub.commands.client import add_client_options, settings_from
from ebpf_hub.commands.common import add_command, add_root, hub_config
from ebpf_hub.safetext import escape


def cmd_verify(args: argparse.Namespace) -> int:
    from ebpf_hub.client.verifychain import Link, verify_chain

    def show(link: Link) -> None:
        if not args.json:
            say(f"ok  {link.name:<10} {escape(link.detail)}")

    hub = hub_config(args) if args.rebuild else None
    chain = verify_chain(settings_from(args), args.package, show, rebuild_from=hub)
    if args.json:
        show_json(chain.to_json())
    else:
        say(f"verified {chain.package} {chain.version} ({chain.digest})")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = add_command(
        commands,
        "verify",
        cmd_verify,
        "check and print a version's chain of trust, from the index to its source",
        "Check NAME[@VERSION] link by link and print what each check found: the index (TUF-"
        "verified when the hub's root is installed, else said to be unsigned), the digest it "
        "pins (manifest and files hashed), the signature (cosign's tag or referrer form, the "
        "hub's key, naming this package and version), the signed SLSA provenance about that "
        "digest (builder, run, toolchain, vmlinux.h, flags), and the source pin the index, the "
        "artifact and the provenance must agree on; with --rebuild, the digest of a build "
        "from that source here. The first link that fails stops it.",
    )
    verify.add_argument("package", metavar="NAME[@VERSION]")
    verify.add_argument(
        "--public-key",
        metavar="FILE",
        help="the hub's signing public key (PEM); default: $EBPF_HUB_PUBLIC_KEY or the config file",
    )
    verify.add_argument(
        "--rebuild",
        action="store_true",
        help="also rebuild the version from its pinned source with the local toolchain (in the "
        "hub checkout --root) and compare digests, naming any tool that differs from the "
        "recorded one",
    )
    add_root(verify)
    add_client_options(verify, registry=True)
