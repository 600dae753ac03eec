"""`ebpf-hub trust ...`: the signed index's ceremony (init, rotate-root, revoke), the publish
step that signs a site's api/v1 (sign), and the client's trust root (install-root, fetch)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ebpf_hub.client.console import say, show_json
from ebpf_hub.commands.common import add_command


def _ceremony_output(args: argparse.Namespace, result: Any, what: str) -> int:
    if args.json:
        show_json(
            {
                "root": str(result.root_file),
                "version": result.version,
                "keys": [{"role": role, "file": str(path)} for role, path in result.keys],
                "revoked": list(result.revoked),
            }
        )
        return 0
    say(f"{what}: wrote {result.root_file} (root version {result.version})")
    for role, path in result.keys:
        say(f"  {role:<9} key {path} (private: keep it secret)")
    for keyid in result.revoked:
        say(f"  no longer trusted: key {keyid[:16]}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from ebpf_hub.trust.ceremony import init_root
    from ebpf_hub.trust.lifetimes import parse_duration

    result = init_root(
        Path(args.roots),
        Path(args.root_keys_dir),
        Path(args.keys),
        root_keys=args.root_keys,
        threshold=args.threshold,
        lifetime=parse_duration(args.root_expiry, "--root-expiry"),
    )
    return _ceremony_output(args, result, "trust init")


def cmd_rotate_root(args: argparse.Namespace) -> int:
    from ebpf_hub.trust.ceremony import rotate_root
    from ebpf_hub.trust.lifetimes import parse_duration

    result = rotate_root(
        Path(args.roots),
        Path(args.root_keys_dir),
        root_keys=args.root_keys,
        threshold=args.threshold,
        lifetime=parse_duration(args.root_expiry, "--root-expiry"),
    )
    return _ceremony_output(args, result, "trust rotate-root")


def cmd_revoke(args: argparse.Namespace) -> int:
    from ebpf_hub.trust.ceremony import revoke_key
    from ebpf_hub.trust.lifetimes import parse_duration

    result = revoke_key(
        Path(args.roots),
        Path(args.root_keys_dir),
        Path(args.keys),
        args.key,
        lifetime=parse_duration(args.root_expiry, "--root-expiry"),
    )
    return _ceremony_output(args, result, "trust revoke")


def cmd_sign(args: argparse.Namespace) -> int:
    from ebpf_hub.trust.keys import load_online_keys
    from ebpf_hub.trust.lifetimes import Lifetimes, parse_duration
    from ebpf_hub.trust.repository import sign_index

    lifetimes = Lifetimes(
        targets=parse_duration(args.targets_expiry, "--targets-expiry"),
        bins=parse_duration(args.bins_expiry, "--bins-expiry"),
        snapshot=parse_duration(args.snapshot_expiry, "--snapshot-expiry"),
        timestamp=parse_duration(args.timestamp_expiry, "--timestamp-expiry"),
    )
    report = sign_index(
        Path(args.api_dir),
        Path(args.roots),
        load_online_keys(Path(args.keys) if args.keys else None),
        lifetimes=lifetimes,
        previous=Path(args.previous) if args.previous else None,
    )
    if args.json:
        show_json(
            {
                "root_version": report.root_version,
                "targets_version": report.targets_version,
                "snapshot_version": report.snapshot_version,
                "timestamp_version": report.timestamp_version,
                "targets": report.target_count,
                "bins_signed": report.bins_signed,
                "bins_kept": report.bins_kept,
            }
        )
    else:
        say(
            f"trust sign: {report.target_count} files signed in {args.api_dir}/tuf (timestamp "
            f"v{report.timestamp_version}, snapshot v{report.snapshot_version}, root "
            f"v{report.root_version}; {report.bins_signed} bins re-signed, "
            f"{report.bins_kept} unchanged)"
        )
    return 0


def cmd_install_root(args: argparse.Namespace) -> int:
    from ebpf_hub.commands.client import settings_from
    from ebpf_hub.trust.client import install_root

    hub = settings_from(args).hub_url
    info = install_root(Path(args.file), hub, replace=args.force)
    if args.json:
        show_json(
            {
                "hub": hub,
                "path": str(info.path),
                "version": info.version,
                "expires": info.expires,
                "threshold": info.threshold,
                "keys": info.keys,
            }
        )
    else:
        say(
            f"trusting root version {info.version} for {hub} (expires {info.expires}, "
            f"{info.threshold} of {info.keys} root key(s)): {info.path}"
        )
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ebpf_hub.commands.client import settings_from
    from ebpf_hub.errors import HubError
    from ebpf_hub.safetext import escape, quote
    from ebpf_hub.trust.client import TrustedIndex

    settings = settings_from(args)
    with settings.http_client() as client:
        data = TrustedIndex(settings.hub_url, client, notice=say).fetch(args.path)
    if data is None:
        raise HubError(
            f"the signed index of {settings.hub_url} has no file {quote(args.path)}",
            hint="name a file under api/v1/, e.g. index.json or packages/NAME.json",
        )
    if sys.stdout.isatty():  # the hub's text, signed or not, must not drive the terminal
        print(escape(data.decode(errors="replace"), keep="\n"), end="")
    else:
        sys.stdout.buffer.write(data)
    return 0


def _ceremony_options(sub: argparse.ArgumentParser, *, online: bool) -> None:
    sub.add_argument(
        "--roots",
        required=True,
        metavar="DIR",
        help="the root history, N.root.json (kept in the hub repository)",
    )
    sub.add_argument(
        "--root-keys-dir",
        required=True,
        metavar="DIR",
        help="the offline root keys (root-*.key)",
    )
    if online:
        sub.add_argument("--keys", required=True, metavar="DIR", help="the online keys (ROLE.key)")
    sub.add_argument(
        "--root-expiry", default="365d", metavar="DURATION", help="root lifetime (default 365d)"
    )
    sub.add_argument("--json", action="store_true", help="print what was written as JSON")


def _counts(sub: argparse.ArgumentParser, defaults: Sequence[int | None]) -> None:
    sub.add_argument(
        "--root-keys", type=int, default=defaults[0], metavar="N", help="number of root keys"
    )
    sub.add_argument(
        "--threshold",
        type=int,
        default=defaults[1],
        metavar="N",
        help="root keys needed to sign a root version",
    )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trust = commands.add_parser(
        "trust",
        help="the signed index (TUF): ceremony, signing, the client's root",
        description="The hub's index is TUF metadata (python-tuf): an offline root, online "
        "targets/bins/snapshot/timestamp keys. The hub runs init once, sign on every publish, "
        "rotate-root and revoke when keys change; a client runs install-root once.",
    )
    actions = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)

    init = add_command(
        actions,
        "init",
        cmd_init,
        "create root version 1 and every key",
        "Write ROOTS/1.root.json, the root keys (ROOT_KEYS_DIR/root-KEYID.key: take them "
        "offline) and the online keys (KEYS/{targets,bins,snapshot,timestamp}.key: the publish "
        "workflow's secrets), each 0600.",
    )
    _ceremony_options(init, online=True)
    _counts(init, (1, 1))

    rotate = add_command(
        actions,
        "rotate-root",
        cmd_rotate_root,
        "new root keys: the next root version, signed by old and new",
        "Write the next ROOTS/N.root.json with new root keys (written to ROOT_KEYS_DIR), signed "
        "by the threshold of the old ones found there and by the new ones. Also renews a root "
        "before it expires.",
    )
    _ceremony_options(rotate, online=False)
    _counts(rotate, (None, None))

    revoke = add_command(
        actions,
        "revoke",
        cmd_revoke,
        "stop trusting an online key",
        "Write the next root version without KEY (8 or more hex digits of its keyid); each "
        "role it served gets a new key, written over KEYS/ROLE.key. Clients refuse metadata "
        "signed by the revoked key from then on.",
    )
    revoke.add_argument("key", metavar="KEY", help="the keyid (or a unique prefix) to revoke")
    _ceremony_options(revoke, online=True)

    sign = add_command(
        actions,
        "sign",
        cmd_sign,
        "sign a built site's api/v1 (the publish step)",
        "Write API_DIR/tuf/ (timestamp.json, VERSION.ROLE.json) and a SHA256.NAME copy of "
        "each file, continuing the versions of --previous (default: API_DIR/tuf). Online keys "
        "come from --keys DIR or $EBPF_HUB_TUF_{TARGETS,BINS,SNAPSHOT,TIMESTAMP}_KEY.",
    )
    sign.add_argument("api_dir", metavar="API_DIR", help="the site's api/v1 directory")
    sign.add_argument("--roots", required=True, metavar="DIR", help="the root history")
    sign.add_argument("--keys", metavar="DIR", help="the online keys (default: environment)")
    sign.add_argument(
        "--previous", metavar="DIR", help="the metadata of the publication being replaced"
    )
    for role, default in (("timestamp", "1d"), ("snapshot", "7d"), ("targets", "7d")):
        sign.add_argument(
            f"--{role}-expiry",
            default=default,
            metavar="DURATION",
            help=f"{role} lifetime (default {default})",
        )
    sign.add_argument(
        "--bins-expiry", default="7d", metavar="DURATION", help="hashed bins' lifetime (7d)"
    )
    sign.add_argument("--json", action="store_true", help="print the versions as JSON")

    install = add_command(
        actions,
        "install-root",
        cmd_install_root,
        "trust a hub's root.json",
        "Check FILE (root metadata signed by its own keys, not expired) and trust it for the "
        "hub from now on; later roots reach the client signed by it.",
    )
    install.add_argument("file", metavar="FILE")
    install.add_argument("--hub", metavar="URL", help="the hub (default: $EBPF_HUB_URL, config)")
    install.add_argument("--force", action="store_true", help="replace a different root")
    install.add_argument("--json", action="store_true", help="print the root's facts as JSON")

    fetch = add_command(
        actions,
        "fetch",
        cmd_fetch,
        "print a verified file of the hub's index",
        "Print api/v1/PATH of the hub (e.g. packages/execsnoop.json) once its signatures "
        "verify from the trusted root, as every client command reads it.",
    )
    fetch.add_argument("path", metavar="PATH")
    fetch.add_argument("--hub", metavar="URL", help="the hub (default: $EBPF_HUB_URL, config)")
    fetch.add_argument("--json", action="store_true", help="errors as JSON")
