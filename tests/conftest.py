"""Shared fixtures: real OCI registries (see tests/registry.py) and hostile HTTP servers
(see tests/routedserver.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from registry import RegistryServer, TokenServer, start_registry
from routedserver import Route, RoutedServer

AUTH_PASSWORD = "correct horse"  # noqa: S105 - the test registry's throwaway password


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry shared by the session; tests keep apart by using their own repositories."""
    server = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry of one test's own, for tests that tamper with its storage or stop it."""
    server = start_registry(tmp_path_factory.mktemp("fresh-registry"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry that requires HTTP basic auth (htpasswd, bcrypt) as user ``hub``."""
    server = start_registry(
        tmp_path_factory.mktemp("auth-registry"), username="hub", password=AUTH_PASSWORD
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry that requires bearer tokens, which a token server grants to user ``hub``."""
    workdir = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(workdir, "hub", AUTH_PASSWORD)
    try:
        server = start_registry(
            workdir, username="hub", password=AUTH_PASSWORD, token_server=tokens
        )
        try:
            yield server
        finally:
            server.stop()
    finally:
        tokens.stop()


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Route]], RoutedServer]]:
    """Start servers answering each path as the test says; all stop when the test ends."""
    servers: list[RoutedServer] = []

    def start(routes: dict[str, Route]) -> RoutedServer:
        servers.append(RoutedServer(routes))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
