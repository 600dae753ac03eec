"""The client's read side against the real JSON index, served by a real HTTP server."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.resolve import Resolution, parse_spec, resolve
from ebpf_hub.client.search import search
from ebpf_hub.client.settings import (
    DEFAULT_HUB_URL,
    DEFAULT_REGISTRY,
    HUB_URL_ENV,
    REGISTRY_ENV,
    Settings,
)
from ebpf_hub.errors import HubError
from ebpf_hub.model.index import IndexPackage, IndexSummary
from ebpf_hub.model.version_spec import VersionSpec
from ebpf_hub.oci.keyenv import PUBLIC_KEY_ENV
from ebpf_hub.paths import cache_dir, config_dir
from httpserver import StaticServer
from hubrepo import REPO

INDEX = "/api/v1/index.json"
NOTICE = re.compile(
    r"^ebpf-hub: hub unreachable \(connection refused\); "
    r"using the cached index from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's real JSON index, as `ebpf-hub index` writes it."""
    out = tmp_path_factory.mktemp("site")
    assert main(["index", "--root", str(REPO), "--out", str(out)]) == 0
    return out


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and config per test, and none of the user's variables."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    for variable in (HUB_URL_ENV, REGISTRY_ENV, PUBLIC_KEY_ENV):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "home"


@pytest.fixture
def hub(site: Path, tmp_path: Path) -> Iterator[StaticServer]:
    """A server of this test's own copy of the index, which the test may change or stop."""
    root = tmp_path / "served"
    shutil.copytree(site, root)
    with StaticServer(root) as server:
        yield server


def read(server: StaticServer | str, name: str | None = None) -> Any:
    """What a fresh client (no memory but the disk cache) reads from the hub."""
    url = server.url if isinstance(server, StaticServer) else server
    with HubIndex(Settings(hub_url=url, backoff=0.01)) as index:
        return index.summaries() if name is None else index.package(name)


def error_of(server: StaticServer | str, name: str | None = None) -> str:
    with pytest.raises(HubError) as caught:
        read(server, name)
    message = str(caught.value)
    assert "\n" not in message
    return message


# Search


def test_search_ranks_exact_name_first_and_finds_keywords_and_categories(
    hub: StaticServer,
) -> None:
    summaries = read(hub)
    assert [(m.name, m.reason) for m in search(summaries, "TCPStates ")] == [("tcpstates", "name")]
    # name prefixes first, then keywords, then summaries; by name within each
    assert [(m.name, m.reason) for m in search(summaries, "tcp")] == [
        ("tcplife", "name prefix"),
        ("tcproto", "name prefix"),
        ("tcpstates", "name prefix"),
        ("connectsnoop", "keyword"),
        ("solisten", "keyword"),
        ("tcflow", "keyword"),
        ("xdpfilter", "summary"),
    ]
    assert [(m.name, m.reason) for m in search(summaries, "audit")] == [
        ("bashreadline", "keyword"),
        ("execsnoop", "keyword"),
        ("opensnoop", "keyword"),
    ]
    assert [m.name for m in search(summaries, "histogram microsec")] == ["runqlat"]
    assert [(m.name, m.reason) for m in search(summaries, "execsnop")] == [
        ("execsnoop", "similar name"),
        ("exitsnoop", "similar name"),
    ]
    networking = sorted(p.name for p in summaries if "networking" in p.categories)
    assert len(networking) >= 2
    assert [m.name for m in search(summaries, "", category="networking")] == networking
    assert [m.name for m in search(summaries, "networking")] == networking
    assert [m.name for m in search(summaries, "snoop", category="process")] == [
        "execsnoop",
        "exitsnoop",
        "killsnoop",
        "sigsnoop",
    ]
    assert search(summaries, "no-such-thing-at-all") == []


def summary(
    name: str, text: str = "Nothing to see here", keywords: tuple[str, ...] = ()
) -> IndexSummary:
    return IndexSummary.from_json(
        {
            "name": name,
            "summary": text,
            "license": "MIT",
            "categories": ["examples"],
            "keywords": list(keywords),
            "latest": "1.0.0",
            "updated": "2026-01-01",
            "versions": [{"version": "1.0.0", "created": "2026-01-01", "yanked": False}],
        }
    )


def test_search_orders_every_kind_of_match_deterministically() -> None:
    packages = [
        summary("zzz-unrelated"),
        summary("flaw"),
        summary("sockwatch", "Watch every flow of a socket"),
        summary("netmon", keywords=("flow",)),
        summary("tcflow"),
        summary("flowtop"),
        summary("flowa"),
        summary("flow"),
    ]
    found = search(packages, "flow")
    assert [(m.name, m.reason) for m in found] == [
        ("flow", "name"),
        ("flowa", "name prefix"),
        ("flowtop", "name prefix"),
        ("tcflow", "in name"),
        ("netmon", "keyword"),
        ("sockwatch", "summary"),
        ("flaw", "similar name"),
    ]
    assert found[-1].score == 0.75
    assert search(list(reversed(packages)), "flow") == found


# Fetching and caching


def test_repeat_fetch_is_a_304_answered_from_the_cache(hub: StaticServer, home: Path) -> None:
    first = read(hub)
    assert read(hub) == first
    assert hub.statuses(INDEX) == [200, 304]
    package = read(hub, "execsnoop")
    assert read(hub, "execsnoop") == package
    assert hub.statuses("/api/v1/packages/execsnoop.json") == [200, 304]
    assert package.name == "execsnoop" and package.versions[0].reference
    cached = list((cache_dir() / "index").glob("*/index.json"))
    assert len(cached) == 1 and cached[0].is_relative_to(home)


def test_one_client_fetches_each_file_once(hub: StaticServer) -> None:
    with HubIndex(Settings(hub_url=hub.url)) as index:
        index.summaries()
        index.summaries()
        assert index.registry() == "ghcr.io/ebpf-hub/packages"
    assert hub.statuses(INDEX) == [200]


def test_unreachable_hub_falls_back_to_the_cache_with_a_notice(
    hub: StaticServer, capsys: pytest.CaptureFixture[str]
) -> None:
    summaries = read(hub)
    package = read(hub, "execsnoop")
    hub.stop()
    assert read(hub) == summaries
    assert read(hub, "execsnoop") == package
    notices = capsys.readouterr().err.splitlines()
    assert len(notices) == 2 and all(NOTICE.match(line) for line in notices), notices
    assert error_of(hub, "opensnoop") == (
        f"cannot reach the hub at {hub.url} (connection refused); "
        "check --hub / EBPF_HUB_URL or your network"
    )


def test_unreachable_hub_without_a_cache_is_one_clear_line(hub: StaticServer) -> None:
    hub.stop()
    assert error_of(hub) == (
        f"cannot reach the hub at {hub.url} (connection refused); "
        "check --hub / EBPF_HUB_URL or your network"
    )


def test_server_errors_are_retried(hub: StaticServer) -> None:
    hub.fail(INDEX, 500, times=2)
    assert len(read(hub)) >= 3
    assert hub.statuses(INDEX) == [500, 500, 200]


def test_a_hub_that_keeps_failing_is_unreachable(hub: StaticServer) -> None:
    hub.fail(INDEX, 503, times=10)
    assert "(HTTP 503); check --hub" in error_of(hub)
    assert hub.statuses(INDEX) == [503] * 4  # the first try and three retries


def test_unknown_package_suggests_close_names(hub: StaticServer) -> None:
    assert error_of(hub, "execsnop") == (
        f"no package named 'execsnop' on the hub at {hub.url}; did you mean: execsnoop, "
        "exitsnoop, connectsnoop?"
    )
    assert error_of(hub, "qqqqqqq").endswith("; `ebpf-hub search` lists them")
    assert "is not a package name" in error_of(hub, "../index")
    assert hub.statuses("/api/v1/packages/execsnop.json") == [404]


def test_malformed_index_is_refused_and_not_cached(hub: StaticServer) -> None:
    good = read(hub)
    index_file = hub.root / "api/v1/index.json"
    index_file.write_bytes(b'{"api_version": 1, "packages": [')
    assert error_of(hub).startswith(f"{hub.url}api/v1/index.json is not valid JSON (")
    broken = {"api_version": 1, "registry": "r", "packages": [{**good[0].to_json(), "latest": 3}]}
    index_file.write_text(json.dumps(broken))
    assert error_of(hub) == (
        f"{hub.url}api/v1/index.json is not a valid eBPF Hub index file "
        '(at packages/0/latest: 3 is not of types "null", "string"); '
        "check --hub, or report it to the hub"
    )
    hub.stop()  # the last good copy is still the cached one
    assert read(hub) == good


def test_package_file_must_be_valid_and_name_itself(hub: StaticServer) -> None:
    packages = hub.root / "api/v1/packages"
    entry = json.loads((packages / "execsnoop.json").read_bytes())
    (packages / "impostor.json").write_text(json.dumps(entry))
    assert "describes 'execsnoop', not 'impostor'" in error_of(hub, "impostor")
    del entry["versions"]
    (packages / "execsnoop.json").write_text(json.dumps(entry))
    assert "not a valid eBPF Hub index file (at the top level:" in error_of(hub, "execsnoop")


def test_oversized_files_are_refused(hub: StaticServer) -> None:
    (hub.root / "api/v1/packages/huge.json").write_bytes(b" " * (5 * 1024 * 1024))
    assert error_of(hub, "huge") == (
        f"{hub.url}api/v1/packages/huge.json is larger than 4 MiB; "
        "refusing it (check --hub / EBPF_HUB_URL)"
    )


def test_local_directory_and_file_url_hubs(site: Path, tmp_path: Path) -> None:
    summaries = read(str(site))
    assert read(site.as_uri()) == summaries
    assert read(str(site), "tcflow").name == "tcflow"
    assert "did you mean: tcflow?" in error_of(str(site), "tcflov")
    missing = tmp_path / "nowhere"
    assert error_of(str(missing)) == (
        f"no hub index at {missing}/api/v1/index.json; write one with "
        "`ebpf-hub index --out DIR`, or check --hub / EBPF_HUB_URL"
    )
    assert not cache_dir().exists()  # a local hub is read in place, never cached


def test_registry_comes_from_the_index_unless_configured(hub: StaticServer) -> None:
    index_file = hub.root / "api/v1/index.json"
    data = json.loads(index_file.read_bytes())
    index_file.write_text(json.dumps({**data, "registry": "127.0.0.1:5000/hub"}))
    with HubIndex(Settings(hub_url=hub.url)) as index:
        assert index.registry() == "127.0.0.1:5000/hub"
    with HubIndex(Settings(hub_url=hub.url, registry="oci:/srv/oci")) as index:
        assert index.registry() == "oci:/srv/oci"


# Versions


def version(number: str, yanked: str | None = None) -> dict[str, Any]:
    return {
        "version": number,
        "created": "2026-01-01",
        "changes": "Something",
        "commit": None,
        "tree": None,
        "yanked": yanked,
        "ref": f"example.org/hub/sample:{number}",
        "digest": None,
        "size": None,
        "pinned": None,
        "parameters": None,
    }


def choose(package: IndexPackage, spec: str | None) -> Resolution:
    """`resolve` of the spec `NAME@SPEC` would parse."""
    return resolve(package, VersionSpec.parse(spec) if spec is not None else None)


@pytest.fixture(scope="module")
def sample_entry(site: Path) -> dict[str, Any]:
    """A real package entry with many versions: yanked ones and prereleases."""
    entry: dict[str, Any] = json.loads((site / "api/v1/packages/execsnoop.json").read_bytes())
    numbers = ["0.9.0", "1.0.0", "1.1.0", "1.1.1", "1.2.0-rc.1", "1.10.0-beta.1", "2.0.0"]
    entry["versions"] = [version(n) for n in numbers] + [version("2.1.0-rc.1")]
    entry["versions"][3] = version("1.1.1", yanked="Crashes on 6.1")
    entry["versions"][6] = version("2.0.0", yanked="Wrong output")
    return entry


@pytest.fixture(scope="module")
def sample(sample_entry: dict[str, Any]) -> IndexPackage:
    return IndexPackage.from_json(sample_entry)


@pytest.mark.parametrize(
    ("spec", "chosen"),
    [(None, "1.1.0"), ("1", "1.1.0"), ("1.1", "1.1.0"), ("1.0", "1.0.0"), ("0", "0.9.0"),
     ("1.0.0", "1.0.0"), ("1.2.0-rc.1", "1.2.0-rc.1"), ("2.1.0-rc.1", "2.1.0-rc.1")],
)  # fmt: skip
def test_resolve_picks_the_newest_release_of_a_line(
    sample: IndexPackage, spec: str | None, chosen: str
) -> None:
    resolution = choose(sample, spec)
    assert resolution.version.version == chosen
    assert resolution.warning is None


def test_resolve_installs_a_yanked_version_only_when_named(sample: IndexPackage) -> None:
    resolution = choose(sample, "1.1.1")
    assert resolution.version.version == "1.1.1"
    assert resolution.warning == (
        "execsnoop 1.1.1 is yanked (Crashes on 6.1); installing it only because it was named exactly"
    )


def test_resolve_errors_list_the_versions(sample: IndexPackage) -> None:
    available = (
        "available: 2.1.0-rc.1, 2.0.0 (yanked), 1.10.0-beta.1, 1.2.0-rc.1, 1.1.1 (yanked), "
        "1.1.0, 1.0.0, 0.9.0"
    )
    with pytest.raises(HubError, match=re.escape(f"no release matching 2; {available}")):
        choose(sample, "2")
    with pytest.raises(HubError, match=re.escape(f"no release matching 1.2; {available}")):
        choose(sample, "1.2")
    with pytest.raises(HubError, match=re.escape(f"execsnoop has no version 3.0.0; {available}")):
        choose(sample, "3.0.0")
    with pytest.raises(HubError, match=r"'v1\.0\.0' is not MAJOR, .*; drop the 'v' \(1\.0\.0\)"):
        choose(sample, "v1.0.0")
    versions = [version("1.0.0", "Bad"), version("1.1.0-rc.1")]
    withdrawn = IndexPackage.from_json({**sample.to_json(), "versions": versions})
    with pytest.raises(HubError, match=r"no release to install by default .* execsnoop@VERSION"):
        choose(withdrawn, None)


def test_parse_spec() -> None:
    assert parse_spec("execsnoop") == ("execsnoop", None)
    assert parse_spec("execsnoop@1.2") == ("execsnoop", VersionSpec("1.2", 1, 2))
    assert parse_spec("tcp-states@1.0.0-rc.1") == ("tcp-states", VersionSpec("1.0.0-rc.1"))
    for text, message in [
        ("execsnoop@", "nothing after '@'; write NAME@VERSION, e.g. execsnoop@1.2"),
        ("ExecSnoop@1", "'ExecSnoop' is not a package name: lowercase letters"),
        ("a--b", "'a--b' is not a package name"),
        ("execsnoop@1.2.3.4", "version '1.2.3.4' is not MAJOR, MAJOR.MINOR or an exact"),
        ("execsnoop@01", "version '01' is not"),
    ]:
        with pytest.raises(HubError, match=re.escape(message)):
            parse_spec(text)


# Settings


def write_config(text: str) -> Path:
    path = config_dir() / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_settings_defaults() -> None:
    settings = Settings.load()
    assert settings.hub_url == DEFAULT_HUB_URL
    assert settings.registry is None and settings.registry_for(None) == DEFAULT_REGISTRY
    assert settings.public_key is None and settings.require_signatures is False


def test_settings_precedence_flag_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(
        'hub_url = "https://file.example/"\nregistry = "file.example/ns"\n'
        'public_key = "keys/hub.pub"\ntimeout = 5\n'
    )
    from_file = Settings.load()
    assert (from_file.hub_url, from_file.registry) == ("https://file.example/", "file.example/ns")
    assert from_file.public_key == path.parent / "keys/hub.pub"
    assert from_file.require_signatures is True and from_file.timeout == 5.0
    assert from_file.registry_for("index.example/ns") == "file.example/ns"

    pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
    monkeypatch.setenv(HUB_URL_ENV, "http://env.example/")
    monkeypatch.setenv(REGISTRY_ENV, "oci:/srv/env")
    monkeypatch.setenv(PUBLIC_KEY_ENV, pem)
    from_env = Settings.load()
    assert (from_env.hub_url, from_env.registry) == ("http://env.example/", "oci:/srv/env")
    assert from_env.public_key == pem.encode()

    from_flags = Settings.load(
        hub_url="/srv/hub", registry="flag.example/ns", require_signatures=False
    )
    assert (from_flags.hub_url, from_flags.registry) == ("/srv/hub", "flag.example/ns")
    assert from_flags.require_signatures is False and from_flags.public_key == pem.encode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hub_url = ", "not valid TOML (Invalid value (at end of document)); fix the syntax"),
        ('hub = "x"', "unknown key 'hub'; the keys are hub_url, registry, public_key, "),
        ('require_signatures = "yes"', "require_signatures = 'yes' is not allowed; "
         "require_signatures must be true or false"),
        ("timeout = 0", "timeout = 0 is not allowed; timeout must be a number of seconds"),
        ('registry = "https://ghcr.io/x"', "registry: 'https://ghcr.io/x' must be REGISTRY/"),
        ('hub_url = "ftp://x/"', "hub_url: 'ftp://x/' must start with https://"),
    ],
)  # fmt: skip
def test_bad_config_file_is_one_clear_line(text: str, message: str) -> None:
    path = write_config(text)
    with pytest.raises(HubError) as caught:
        Settings.load()
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
