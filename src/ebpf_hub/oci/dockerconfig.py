"""Credentials from docker's ``config.json``, looked up per host as docker does.

``docker login`` and ``skopeo login --authfile`` write one of three things, and docker reads
them in this order for a registry host: ``credHelpers[HOST]`` names a helper program for that
host only; else ``credsStore`` names the helper for every host; else ``auths`` holds
``base64(user:password)`` under a key that is ``HOST``, ``HOST:PORT`` or a URL such as
``https://HOST/v1/``. A helper is ``docker-credential-NAME``: it reads the server on stdin,
answers ``{"Username": ..., "Secret": ...}`` on stdout, or says "credentials not found". The
lookup is always for one host, so what the user stored for one registry never reaches another.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ebpf_hub.oci.auth import Credentials
from ebpf_hub.oci.errors import AuthenticationError
from ebpf_hub.oci.hosts import canonical_host

DOCKER_CONFIG_ENV = "DOCKER_CONFIG"
HELPER_PREFIX = "docker-credential-"
HELPER_TIMEOUT = 30.0  # seconds; a helper may unlock a keyring, but must not hang the client
_HELPER_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NOT_FOUND = "credentials not found"
_IDENTITY_TOKEN_USER = "<token>"  # noqa: S105 - docker's marker, not a secret


def docker_config_path(env: Mapping[str, str]) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (as docker does)."""
    directory = env.get(DOCKER_CONFIG_ENV)
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


def _key_host(key: str) -> str | None:
    """Host of an ``auths`` / ``credHelpers`` key: ``host:port`` or ``https://host/v1/``."""
    return canonical_host(urlsplit(key).netloc if "://" in key else key.split("/", 1)[0])


def _entry_for(table: object, host: str) -> tuple[str, Any] | None:
    """The (key, value) of a docker config table whose key names ``host``."""
    if not isinstance(table, dict):
        return None
    return next(((k, v) for k, v in table.items() if _key_host(str(k)) == host), None)


def _read(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        raise AuthenticationError(
            f"{path}: cannot read docker's config ({reason}); fix it or run 'docker login'"
        ) from None
    if not isinstance(config, dict):
        raise AuthenticationError(f"{path}: not a JSON object; fix it or run 'docker login'")
    return config


def _decode_auth(path: Path, key: str, entry: object) -> Credentials | None:
    encoded = entry.get("auth") if isinstance(entry, dict) else None
    if not encoded:
        return None
    try:
        username, sep, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        sep = ""
    if not sep:
        raise AuthenticationError(
            f"{path}: auths[{key!r}].auth is not base64 of 'user:password'; run "
            "'docker login' for that registry again"
        )
    return Credentials(username, password)


def run_helper(name: str, server: str, *, where: str) -> Credentials | None:
    """Ask ``docker-credential-NAME get`` for ``server``'s credentials (None: it has none).

    Run without a shell, with a timeout; ``where`` names the config entry for messages.
    """
    if not _HELPER_NAME_RE.fullmatch(name):
        raise AuthenticationError(
            f"{where}: {name!r} is not a credential helper name (letters, digits, '_', '.', "
            "'-'); fix the entry"
        )
    import subprocess  # only a config with a helper pays for it, not every client start-up

    program = shutil.which(HELPER_PREFIX + name)
    if program is None:
        raise AuthenticationError(
            f"{where}: the credential helper {HELPER_PREFIX}{name} is not on PATH; install it "
            "or remove the entry"
        )
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuthenticationError(
            f"{where}: {HELPER_PREFIX}{name} did not answer in {HELPER_TIMEOUT:g} s for "
            f"{server}; check that it works ('echo {server} | {HELPER_PREFIX}{name} get')"
        ) from None
    except OSError as exc:
        raise AuthenticationError(
            f"{where}: cannot run {program} ({exc.strerror}); fix or reinstall it"
        ) from None
    output = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0:
        if _NOT_FOUND in output.lower():
            return None
        detail = (output or done.stderr.decode(errors="replace").strip()).splitlines()
        raise AuthenticationError(
            f"{where}: {HELPER_PREFIX}{name} failed for {server} "
            f"({detail[0] if detail else f'exit status {done.returncode}'}); check the helper"
        )
    return _helper_answer(name, server, output, where)


def _helper_answer(name: str, server: str, output: str, where: str) -> Credentials:
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    username = answer.get("Username") if isinstance(answer, dict) else None
    secret = answer.get("Secret") if isinstance(answer, dict) else None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        raise AuthenticationError(
            f"{where}: {HELPER_PREFIX}{name} answered for {server} without a JSON "
            "Username and Secret; check the helper"
        )
    if username == _IDENTITY_TOKEN_USER:
        raise AuthenticationError(
            f"{where}: {HELPER_PREFIX}{name} holds an identity token for {server}, which "
            "ebpf-hub cannot use; log in with a user name and password or access token"
        )
    return Credentials(username, secret)


def docker_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """What docker's config holds for exactly ``host`` (``HOST[:PORT]``), or None."""
    env = os.environ if env is None else env
    canonical = canonical_host(host)
    path = docker_config_path(env)
    config = _read(path)
    if canonical is None or not config:
        return None
    helper = _entry_for(config.get("credHelpers"), canonical)
    if helper is not None and isinstance(helper[1], str):
        return run_helper(helper[1], host, where=f"{path}: credHelpers[{helper[0]!r}]")
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, host, where=f"{path}: credsStore")
    entry = _entry_for(config.get("auths"), canonical)
    return None if entry is None else _decode_auth(path, *entry)
