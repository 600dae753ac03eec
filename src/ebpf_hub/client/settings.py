"""Where the client finds the hub and the registry, and which signatures it trusts.

Every value is resolved in one order: an explicit argument (a command-line flag), then the
environment, then the user's config file, then the public hub's defaults. The registry is the
exception to the last step: the hub's own index names the registry its references point to, so
the client uses that before the default (see `Settings.registry_for`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.paths import config_dir

DEFAULT_HUB_URL = "https://ebpf-hub.github.io/"
DEFAULT_REGISTRY = "ghcr.io/ebpf-hub/packages"
DEFAULT_TIMEOUT = 30.0

HUB_URL_ENV = "EBPF_HUB_URL"
REGISTRY_ENV = "EBPF_HUB_REGISTRY"
PUBLIC_KEY_ENV = "EBPF_HUB_PUBLIC_KEY"
CONFIG_FILE = "config.toml"

_PEM_START = "-----BEGIN "
_HUB_SCHEMES = ("http://", "https://", "file://")
_CONFIG_HELP = {
    "hub_url": 'a string: the URL (or directory) serving api/v1/, e.g. "https://ebpf-hub.github.io/"',
    "registry": 'a string: REGISTRY/NAMESPACE or oci:DIR, e.g. "ghcr.io/ebpf-hub/packages"',
    "public_key": "a string: the path of a PEM public key, or the PEM text itself",
    "require_signatures": "true or false: refuse artifacts without a valid signature",
    "timeout": "a number of seconds greater than 0, e.g. 30",
}


@dataclass(frozen=True)
class Settings:
    """How to reach the hub and the registry, and the trust policy for what is pulled.

    `registry` is None unless a flag, the environment or the config file named one; the
    index then decides (`registry_for`). `public_key` is a file (`Path`) or PEM text (`bytes`),
    the two forms `ebpf_hub.oci.keys.load_public_key` accepts.
    """

    hub_url: str = DEFAULT_HUB_URL
    registry: str | None = None
    public_key: Path | bytes | None = None
    require_signatures: bool = False
    timeout: float = DEFAULT_TIMEOUT  # seconds to wait to connect, and for each read
    retries: int = 3  # further tries after a connection error, a 429 or a 5xx
    backoff: float = 0.5  # retry n waits backoff * 2**(n-1) s (or Retry-After), at most 10

    @classmethod
    def load(
        cls,
        *,
        hub_url: str | None = None,
        registry: str | None = None,
        public_key: str | None = None,
        require_signatures: bool | None = None,
    ) -> Settings:
        """Settings from explicit arguments (flags), the environment, the config file, defaults.

        Signatures are required by default exactly when a public key is configured: a key
        says "I trust this signer", and without one there is nothing to check against.
        """
        path = config_dir() / CONFIG_FILE
        config = _read_config(path)
        hub = _first(
            ("--hub", hub_url),
            (HUB_URL_ENV, os.environ.get(HUB_URL_ENV)),
            (f"{path}: hub_url", config.get("hub_url")),
        )
        reg = _first(
            ("--registry", registry),
            (REGISTRY_ENV, os.environ.get(REGISTRY_ENV)),
            (f"{path}: registry", config.get("registry")),
        )
        key: Path | bytes | None = None
        if public_key:
            key = _public_key(public_key, Path.cwd())
        elif os.environ.get(PUBLIC_KEY_ENV):
            key = _public_key(os.environ[PUBLIC_KEY_ENV], Path.cwd())
        elif "public_key" in config:
            key = _public_key(config["public_key"], path.parent)
        if require_signatures is None:
            require_signatures = config.get("require_signatures", key is not None)
        return cls(
            hub_url=_check_hub_url(*hub) if hub else DEFAULT_HUB_URL,
            registry=_check_registry(*reg) if reg else None,
            public_key=key,
            require_signatures=bool(require_signatures),
            timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
        )

    def registry_for(self, index_registry: str | None) -> str:
        """The registry to pull from: the configured one, else the index's, else the default."""
        return self.registry or index_registry or DEFAULT_REGISTRY


def _first(*candidates: tuple[str, str | None]) -> tuple[str, str] | None:
    """The first (source, value) with a non-empty value: an empty variable counts as unset."""
    for source, value in candidates:
        if value:
            return source, value
    return None


def _read_config(path: Path) -> dict[str, Any]:
    """The config file's keys, checked; no file means no settings."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise HubError(f"{path}: cannot read the config file ({exc}); fix or remove it") from None
    import tomllib  # only when a config file exists: it is not needed for the defaults

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HubError(
            f"{path}: not valid TOML ({exc}); fix the syntax or remove the file"
        ) from None
    for key, value in data.items():
        if key not in _CONFIG_HELP:
            raise HubError(f"{path}: unknown key {key!r}; the keys are {', '.join(_CONFIG_HELP)}")
        if not _config_value_ok(key, value):
            raise HubError(
                f"{path}: {key} = {value!r} is not allowed; {key} must be {_CONFIG_HELP[key]}"
            )
    return data


def _config_value_ok(key: str, value: object) -> bool:
    if key == "require_signatures":
        return isinstance(value, bool)
    if key == "timeout":
        return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return isinstance(value, str) and bool(value.strip())


def _check_hub_url(source: str, value: str) -> str:
    """A hub URL is http(s), file://, or a plain directory; anything else is a typo."""
    if "://" in value and not value.startswith(_HUB_SCHEMES):
        raise HubError(
            f"{source}: {value!r} must start with https://, http:// or file:// (or be a directory)"
        )
    return value


def _check_registry(source: str, value: str) -> str:
    """Catch the usual mistakes early; the OCI reference parser checks the rest."""
    if "://" in value or any(c.isspace() for c in value):
        raise HubError(
            f"{source}: {value!r} must be REGISTRY/NAMESPACE without a scheme "
            "(e.g. ghcr.io/ebpf-hub/packages) or oci:DIR"
        )
    if value == "oci:":
        raise HubError(f"{source}: 'oci:' needs a directory, e.g. oci:/srv/oci")
    return value


def _public_key(value: str, base: Path) -> Path | bytes:
    """Inline PEM text as bytes, else a key file, relative paths taken from `base`."""
    if value.lstrip().startswith(_PEM_START):
        return value.encode()
    return base / Path(value).expanduser()
