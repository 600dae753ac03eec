"""`pip install ebpf-hub` is a whole client: the site's dependencies are an extra, `site`.

The client commands run in a child process where every module that only the `site` extra
brings in (MkDocs, its theme and their dependencies, nh3) cannot be imported, as on a client
install; the site commands then stop in one line that names the extra.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ebpf_hub.cli import main
from hubrepo import REPO, copy_seed, make_hub

# A meta path finder first in line that refuses the modules named in argv[1] (comma-separated),
# then the command line with the rest of argv.
BLOCKED_CHILD = """\
import sys

class Refuse:
    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse(set(sys.argv[1].split(","))))
from ebpf_hub.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _requirements(extra: str | None) -> list[Requirement]:
    """ebpf-hub's own requirements as pyproject.toml states them: the base, or one extra's."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(text) for text in listed]


def _closure(requirements: Iterable[Requirement]) -> set[str]:
    """The distributions `requirements` install, with what they require in turn."""
    found: set[str] = set()
    pending = [r for r in requirements if r.marker is None or r.marker.evaluate()]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        for text in importlib.metadata.requires(requirement.name) or []:
            child = Requirement(text)
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                pending.append(child)
    return found


def _site_only_modules() -> set[str]:
    """The top-level modules of the distributions the `site` extra adds to a client install."""
    site_only = _closure(_requirements("site")) - _closure(_requirements(None))
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if {canonicalize_name(d) for d in distributions} <= site_only
    }


@pytest.fixture(scope="module")
def blocked() -> str:
    modules = _site_only_modules()
    assert {"mkdocs", "material", "nh3"} <= modules
    return ",".join(sorted(modules))


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """xdpcount published, signed, to an OCI layout with its index in a directory: the client
    settings that use them."""
    work = tmp_path_factory.mktemp("hub")
    hub = make_hub(work / "hub")
    copy_seed(hub, "xdpcount")
    key, layout, ledger = work / "hub-key", f"oci:{work / 'oci'}", work / "digests.json"
    assert main(["keygen", str(key)]) == 0
    publish = ["publish", "--root", str(hub), "--registry", layout, "--all", "--ledger"]
    assert main([*publish, str(ledger), "--sign-key", f"{key}.key"]) == 0
    index = ["index", "--root", str(hub), "--out", str(work / "site"), "--registry", layout]
    assert main([*index, "--digests", str(ledger)]) == 0
    return {"EBPF_HUB_URL": str(work / "site"), "EBPF_HUB_PUBLIC_KEY": f"{key}.pub"}


def _client(
    blocked: str, home: Path, *args: str, hub: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`ebpf-hub ARGS` without the site-only modules, in an empty home, from another
    directory."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    environment.update(hub or {}, EBPF_HUB_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_CHILD, blocked, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=home.parent,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_the_client_commands_work_without_the_site_extra(
    blocked: str, local_hub: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    search = _client(blocked, home, "search", "xdp", hub=local_hub)
    assert search.returncode == 0, search.stderr
    assert "xdpcount" in search.stdout
    info = _client(blocked, home, "info", "xdpcount", hub=local_hub)
    assert info.returncode == 0, info.stderr
    assert "xdpcount" in info.stdout
    install = _client(blocked, home, "install", "xdpcount", hub=local_hub)
    assert install.returncode == 0, install.stderr
    assert "installed xdpcount 1.0.0" in install.stderr
    # Installed, checked against the host and described, then stopped before anything is
    # loaded: at the confirmation a run without a terminal gives with --yes, or (not root) at
    # the host checks.
    run = _client(blocked, home, "run", "xdpcount", hub=local_hub)
    assert run.returncode == 1, run.stderr
    last = run.stderr.splitlines()[-1]
    stop = "cannot run xdpcount@1.0.0, nothing was loaded" if os.geteuid() else "pass --yes"
    assert last.startswith("ebpf-hub: error: ") and stop in last, run.stderr


def test_the_site_commands_name_the_extra_when_it_is_missing(blocked: str, tmp_path: Path) -> None:
    for action in ("build", "serve"):
        site = _client(blocked, tmp_path / "home", "site", action, "--root", str(REPO))
        assert site.returncode == 1
        assert site.stderr.splitlines() == [
            "ebpf-hub: error: the site commands need mkdocs, which a client install leaves "
            "out; install the extra: pip install 'ebpf-hub[site]'"
        ]
