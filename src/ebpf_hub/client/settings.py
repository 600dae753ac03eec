"""Where the client finds the hub and the registry, and which signatures it trusts.

Every value is resolved in one order: an explicit argument (a command-line flag), then the
environment, then the user's config file, then the public hub's defaults. The registry is the
exception to the last step: the hub's own index names the registry its references point to, so
the client uses that before the default (see `Settings.registry_for`).

The config file decides whom the client trusts (the registry, the signing key, plain HTTP),
so it is read only from a directory the safe-directory rule accepts (`ebpf_hub.privatedir`):
root run with another user's HOME (`sudo -E`) must not take that user's word for it. A key
file the config names is held to the same rule.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpf_hub.errors import HubError
from ebpf_hub.httplimits import DEFAULT_DEADLINE, DEFAULT_MIN_RATE, Limits
from ebpf_hub.oci.hosts import INSECURE_REGISTRIES_ENV, parse_host
from ebpf_hub.oci.keyenv import PUBLIC_KEY_ENV
from ebpf_hub.oci.reference import LAYOUT_PREFIX
from ebpf_hub.paths import config_dir
from ebpf_hub.privatedir import open_private_file

if TYPE_CHECKING:
    from ebpf_hub.httpclient import Client

DEFAULT_HUB_URL = "https://ebpf-hub.github.io/"
DEFAULT_REGISTRY = "ghcr.io/ebpf-hub/packages"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
BACKOFF_MAX = 10.0

HUB_URL_ENV = "EBPF_HUB_URL"
REGISTRY_ENV = "EBPF_HUB_REGISTRY"
DEADLINE_ENV = "EBPF_HUB_HTTP_DEADLINE"
MIN_RATE_ENV = "EBPF_HUB_HTTP_MIN_RATE"
SETTINGS_FILE = "config.toml"  # the client's settings, in config_dir()

_PEM_START = "-----BEGIN "
_HUB_SCHEMES = ("http://", "https://", "file://")
_CONFIG_HELP = {
    "hub_url": 'a string: the URL (or directory) serving api/v1/, e.g. "https://ebpf-hub.github.io/"',
    "registry": 'a string: REGISTRY/NAMESPACE or oci:DIR, e.g. "ghcr.io/ebpf-hub/packages"',
    "public_key": "a string: the path of a PEM public key, or the PEM text itself",
    "require_signatures": "true or false: refuse artifacts without a valid signature",
    "timeout": "a number of seconds greater than 0, e.g. 30",
    "retries": "a whole number, 0 or more: further tries of a failed request, e.g. 3",
    "deadline": "a number of seconds greater than 0, e.g. 300",
    "min_rate": "a number of bytes a second, 0 (no minimum) or more, e.g. 1024",
    "insecure_registries": 'a list of HOST[:PORT] to speak plain HTTP to, e.g. ["reg.lan:5000"]',
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
    retries: int = DEFAULT_RETRIES  # further tries after a connection error, a 429 or a 5xx
    backoff: float = 0.5  # retry n waits backoff * 2**(n-1) s (or Retry-After), at most 10
    deadline: float = DEFAULT_DEADLINE  # seconds for a whole request, retries and body included
    min_rate: float = DEFAULT_MIN_RATE  # bytes a second an answer averages over `timeout` s
    insecure_registries: tuple[str, ...] = ()  # HOST[:PORT]s allowed plain HTTP (not loopback)
    # The command's HTTP client, made on first use (`http_client`).
    _client: list[Client] = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def load(
        cls,
        *,
        hub_url: str | None = None,
        registry: str | None = None,
        public_key: str | None = None,
        require_signatures: bool | None = None,
        insecure_registries: list[str] | None = None,
    ) -> Settings:
        """Settings from explicit arguments (flags), the environment, the config file, defaults.

        Signatures are required by default exactly when a public key is configured: a key
        says "I trust this signer", and without one there is nothing to check against.
        """
        path = config_dir() / SETTINGS_FILE
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
        insecure = _first(
            ("--insecure-registry", ",".join(insecure_registries or ())),
            (INSECURE_REGISTRIES_ENV, os.environ.get(INSECURE_REGISTRIES_ENV)),
            (f"{path}: insecure_registries", ",".join(config.get("insecure_registries", ()))),
        )
        key: Path | bytes | None = None
        if public_key:
            key = _public_key(public_key, Path.cwd())
        elif os.environ.get(PUBLIC_KEY_ENV):
            key = _public_key(os.environ[PUBLIC_KEY_ENV], Path.cwd())
        elif "public_key" in config:
            key = _checked_key(_public_key(config["public_key"], path.parent))
        if require_signatures is None:
            require_signatures = config.get("require_signatures", key is not None)
        return cls(
            hub_url=_check_hub_url(*hub) if hub else DEFAULT_HUB_URL,
            registry=_check_registry(*reg) if reg else None,
            public_key=key,
            require_signatures=bool(require_signatures),
            timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
            retries=config.get("retries", DEFAULT_RETRIES),
            deadline=_number(DEADLINE_ENV, config, "deadline", DEFAULT_DEADLINE),
            min_rate=_number(MIN_RATE_ENV, config, "min_rate", DEFAULT_MIN_RATE),
            insecure_registries=_check_hosts(*insecure) if insecure else (),
        )

    @property
    def limits(self) -> Limits:
        """The deadline and minimum rate of every request to the hub, registries and token
        servers, so that none can hold a command by trickling (`ebpf_hub.httplimits`)."""
        return Limits(
            deadline=self.deadline,
            min_rate=self.min_rate,
            window=self.timeout,
            deadline_setting=f"{DEADLINE_ENV} (or deadline in {SETTINGS_FILE})",
            min_rate_setting=f"{MIN_RATE_ENV} (or min_rate in {SETTINGS_FILE})",
        )

    def http_client(self) -> Client:
        """The HTTP client for the hub, the registries and their token servers, with these
        timeouts, limits and retries: one per command (a command makes one `Settings`), made
        on first use and shared by everything the command reaches through these settings, so
        every request has one retry policy and kept-alive connections are reused. Closing it
        only closes its idle connections: it stays usable."""
        if not self._client:
            from ebpf_hub import __version__
            from ebpf_hub.httpclient import Client, RetryPolicy  # only for commands that fetch

            self._client.append(
                Client(
                    timeout=self.timeout,
                    retry=RetryPolicy(self.retries, self.backoff, BACKOFF_MAX),
                    user_agent=f"ebpf-hub/{__version__}",
                    limits=self.limits,
                )
            )
        return self._client[0]

    def registry_for(self, index_registry: str | None) -> str:
        """The registry to pull from: the configured one, else the index's, else the default."""
        return self.registry or index_registry or DEFAULT_REGISTRY

    @property
    def credential_host(self) -> str | None:
        """The host the environment's registry credentials are for: the configured registry's,
        else the default's; never one an index names (None for an `oci:` layout)."""
        registry = self.registry or DEFAULT_REGISTRY
        return None if registry.startswith(LAYOUT_PREFIX) else registry.split("/", 1)[0]


def _first(*candidates: tuple[str, str | None]) -> tuple[str, str] | None:
    """The first (source, value) with a non-empty value: an empty variable counts as unset."""
    for source, value in candidates:
        if value:
            return source, value
    return None


def _read_config(path: Path) -> dict[str, Any]:
    """The config file's keys, checked; no file means no settings."""
    if not os.path.lexists(path):
        return {}  # nothing to read, so nothing to check (a directory need not exist)
    try:
        with open_private_file(path.parent, path.name) as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise HubError(
            f"{path}: cannot read the config file ({exc})", hint="fix or remove it"
        ) from None
    from ebpf_hub import tomlparse  # only when a config file exists: not for the defaults

    try:
        data = tomlparse.loads(text)
    except tomlparse.TOMLDecodeError as exc:
        raise HubError(
            f"{path}: not valid TOML ({exc})", hint="fix the syntax or remove the file"
        ) from None
    for key, value in data.items():
        if key not in _CONFIG_HELP:
            raise HubError(
                f"{path}: unknown key {key!r}", hint=f"the keys are {', '.join(_CONFIG_HELP)}"
            )
        if not _config_value_ok(key, value):
            raise HubError(
                f"{path}: {key} = {value!r} is not allowed",
                hint=f"{key} must be {_CONFIG_HELP[key]}",
            )
    return data


def _config_value_ok(key: str, value: object) -> bool:
    if key == "require_signatures":
        return isinstance(value, bool)
    if key == "retries":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if key == "insecure_registries":
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if key in ("timeout", "deadline", "min_rate"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        return value > 0 or (key == "min_rate" and value == 0)
    return isinstance(value, str) and bool(value.strip())


def _number(variable: str, config: dict[str, Any], key: str, default: float) -> float:
    """The number the environment `variable` gives, else the config file's `key`, else
    `default`; checked like the config file's values."""
    text = os.environ.get(variable)
    if not text:
        return float(config.get(key, default))
    try:
        value = float(text)
    except ValueError:
        value = -1.0  # refused below, with what the value must be
    if not _config_value_ok(key, value):
        raise HubError(
            f"{variable}={text!r} is not allowed", hint=f"it must be {_CONFIG_HELP[key]}"
        )
    return value


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


def _check_hosts(source: str, value: str) -> tuple[str, ...]:
    """Comma-separated `HOST[:PORT]`s, each checked, so a typo is not silently ignored."""
    hosts = tuple(entry.strip() for entry in value.split(",") if entry.strip())
    for host in hosts:
        try:
            parse_host(host)
        except ValueError as exc:
            raise HubError(
                f"{source}: {exc}; list registries as HOST[:PORT], e.g. registry.lan:5000"
            ) from None
    return hosts


def _checked_key(key: Path | bytes) -> Path | bytes:
    """A key file the config names, after the safe-directory checks of its directory and
    itself (a missing one is left for the signature check to report)."""
    if isinstance(key, Path):
        with suppress(FileNotFoundError), open_private_file(key.parent, key.name):
            pass
    return key


def _public_key(value: str, base: Path) -> Path | bytes:
    """Inline PEM text as bytes, else a key file, relative paths taken from `base`."""
    if value.lstrip().startswith(_PEM_START):
        return value.encode()
    return base / Path(value).expanduser()
