"""Which credentials go to which host: each pair to the one host it was given for.

docker's config answers for the host an entry names (:mod:`ebpf_hub.oci.dockerconfig`). The
environment's pair (``EBPF_HUB_REGISTRY_USERNAME`` / ``_PASSWORD``, what CI sets) names no
host, so it belongs to the registry the user configured (a flag, ``EBPF_HUB_REGISTRY``, the
config file): never to whatever host a hub index names, which anyone able to edit an index
could point at a server of theirs to collect it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ebpf_hub.oci.auth import PASSWORD_ENV, USERNAME_ENV, Credentials
from ebpf_hub.oci.dockerconfig import docker_credentials
from ebpf_hub.oci.hosts import canonical_host


@dataclass(frozen=True)
class Keychain:
    """Credentials per host. ``configured`` is the ``HOST[:PORT]`` the environment's pair is for.

    ``env`` defaults to the process environment (tests pass their own).
    """

    configured: str | None = None
    env: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    def owns_environment(self, host: str) -> bool:
        """True if ``host`` is the configured registry: the environment's pair is for it alone."""
        canonical = canonical_host(host)
        return canonical is not None and canonical == canonical_host(self.configured or "")

    def find(self, host: str) -> Credentials | None:
        """The credentials for exactly ``host``: the environment's if it is the configured
        registry, else (or when the environment has none) docker's."""
        env = self._environ()
        username, password = env.get(USERNAME_ENV), env.get(PASSWORD_ENV)
        if username and password and self.owns_environment(host):
            return Credentials(username, password)
        return docker_credentials(host, env)

    def hint(self, host: str) -> str:
        """How to give credentials for ``host``, for error messages."""
        if self.owns_environment(host):
            return f"set {USERNAME_ENV} and {PASSWORD_ENV}, or run 'docker login {host}'"
        where = f"only to {self.configured}" if self.configured else "to no registry here"
        return (
            f"run 'docker login {host}' (or configure a credential helper for it); "
            f"{USERNAME_ENV} and {PASSWORD_ENV} go {where}"
        )
