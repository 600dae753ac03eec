"""Red team on registry credentials: variants the per-host scoping (issue #11) did not name.

The servers are the hostile loopback servers of `test_security_registry`, which record every
header they receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ebpf_hub.client.fetch import resolve_tag
from ebpf_hub.client.install import hub_source
from ebpf_hub.errors import HubError
from test_security_registry import (
    DIGEST,
    SECRET_B64,
    Hostile,
    Reply,
    Seen,
    attacker_dns,  # noqa: F401 - autouse fixture
    bearer_auth,
    clean_environment,  # noqa: F401 - autouse fixture
    hostile,  # noqa: F401 - fixture
    hub_version,
    serves_manifest_heads,
    settings,
    write_docker_config,
)

VICTIM_TOKEN = "token-for-the-victims-other-registry"  # noqa: S105 - what the attacker wants


def token_server_of_another_registry(server: Hostile, seen: Seen) -> Reply:
    """The token server of a registry the user is logged in to (GHCR, say): a token that acts
    as the user there for the credentials it is given, an anonymous one without."""
    given = seen.headers.get("authorization") == f"Basic {SECRET_B64}"
    token = VICTIM_TOKEN if given else "anonymous"
    return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()


def test_a_registry_cannot_name_the_users_other_registry_as_its_token_realm(
    hostile: Callable[..., Hostile],  # noqa: F811 - the imported fixture
    clean_environment: Path,  # noqa: F811 - the imported fixture
) -> None:
    """The confused deputy: the index points a version at the attacker's registry, whose
    challenge names as realm the token server of a registry the user *has* credentials for,
    with a scope of the attacker's choosing. Fetching that token with the user's credentials
    and sending it on to the registry hands the attacker a token that acts as the user there.
    """
    realm = hostile(token_server_of_another_registry)
    write_docker_config(clean_environment, {"auths": {realm.host(): {"auth": SECRET_B64}}})
    attacker = hostile(
        bearer_auth(
            lambda _: f"http://{realm.host()}/token?scope=repository:victim/private:pull,push",
            serves_manifest_heads,
        )
    )
    entry = hub_version(f"{attacker.host()}/ns/execsnoop:1.0.0")
    where = hub_source(settings(), "execsnoop", entry)
    with pytest.raises(HubError):
        resolve_tag(settings(), where, "1.0.0")
    assert f"Bearer {VICTIM_TOKEN}" not in attacker.authorizations()
    assert realm.authorizations() == []


def test_a_registry_with_its_own_credentials_keeps_a_token_server_elsewhere(
    hostile: Callable[..., Hostile],  # noqa: F811 - the imported fixture
    clean_environment: Path,  # noqa: F811 - the imported fixture
) -> None:
    """What the realm's credentials are for: a registry the user logged in to whose token
    server lives on another host (Docker Hub's, GitLab's) still gets its token."""
    realm = hostile(token_server_of_another_registry)

    def registry_route(server: Hostile, seen: Seen) -> Reply:
        if seen.headers.get("authorization") == f"Bearer {VICTIM_TOKEN}":
            return serves_manifest_heads(server, seen)
        challenge = f'Bearer realm="http://{realm.host()}/token",service="reg"'
        return 401, {"WWW-Authenticate": challenge}, b""

    registry = hostile(registry_route)
    auths = {realm.host(): {"auth": SECRET_B64}, registry.host(): {"auth": SECRET_B64}}
    write_docker_config(clean_environment, {"auths": auths})
    entry = hub_version(f"{registry.host()}/ns/execsnoop:1.0.0")
    where = hub_source(settings(), "execsnoop", entry)
    assert resolve_tag(settings(), where, "1.0.0") == DIGEST
    assert realm.authorizations() == [f"Basic {SECRET_B64}"]
