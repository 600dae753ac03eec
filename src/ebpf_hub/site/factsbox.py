"""The facts sidebar of a package page: the package at a glance, as a definition list.

It is a labelled `<aside>`, so assistive technology lists it as its own landmark; rows are
built from a list, so that later facts (signature state, tested kernels) add a row, not a
layout. Every value is escaped: the facts come from contributor-written metadata.
"""

from __future__ import annotations

from ebpf_hub.model.package import Maintainer
from ebpf_hub.site.facts import PackageFacts, days_phrase, size_phrase
from ebpf_hub.site.markup import escape, html_code, html_link

# From a package page (packages/NAME/) to the JSON index.
_API = "../../api/v1/packages"


def facts_sidebar(facts: PackageFacts) -> str:
    """The sidebar's HTML: a heading and one `<dt>`/`<dd>` pair per fact that is known."""
    rows = [
        ("Latest", escape(facts.latest) if facts.latest else "every version yanked"),
        (
            "Updated",
            f'<span title="counted to {escape(facts.as_of.phrase)}">'
            f"{days_phrase(facts.days_ago)}</span> ({escape(facts.released)})",
        ),
        ("Size", escape(size_phrase(facts.size)) if facts.size is not None else "not published"),
        ("License", escape(facts.license)),
        ("Kernel", f"{escape(facts.kernel)} or newer" if facts.kernel else "any"),
        ("Tested on", escape(", ".join(facts.tested)) or "not tested on the kernel matrix"),
        ("Architectures", escape(", ".join(facts.architectures))),
        ("Hooks", ", ".join(html_code(h) for h in facts.hooks)),
        ("Effect", escape(facts.effect)),
        ("Capabilities", ", ".join(html_code(c) for c in facts.capabilities) or "none listed"),
        ("Maintainers", "<br>".join(_maintainer(m) for m in facts.maintainers)),
        ("Source", _source(facts)),
        ("Keywords", ", ".join(escape(k) for k in facts.keywords)),
        ("JSON", f'<a href="{_API}/{facts.name}.json">{escape(facts.name)}.json</a>'),
    ]
    items = "".join(f"<dt>{term}</dt><dd>{value}</dd>" for term, value in rows if value)
    return (
        '<aside class="hub-facts" aria-labelledby="facts">'
        f'<h2 id="facts" class="hub-facts__title">Facts</h2><dl>{items}</dl></aside>'
    )


def facts_for_search(facts: PackageFacts) -> str:
    """What search indexes of the sidebar, as one paragraph: the sidebar takes its place once
    the page is indexed (a definition list costs the search plugin ten times the work, on every
    package page). Search finds the facts in the page's first section, under its name."""
    parts = [
        ("License", escape(facts.license)),
        ("Hooks", escape(", ".join(facts.hooks))),
        ("Effect", escape(facts.effect)),
        ("Capabilities", escape(", ".join(facts.capabilities))),
        ("Architectures", escape(", ".join(facts.architectures))),
        ("Keywords", escape(", ".join(facts.keywords))),
    ]
    return "<p>" + " ".join(f"{term}: {value}." for term, value in parts if value) + "</p>"


def _maintainer(person: Maintainer) -> str:
    if person.github is not None:
        return html_link(f"https://github.com/{person.github}", person.name)
    if person.email is not None:
        return html_link(f"mailto:{person.email}", person.name)
    return escape(person.name)


def _source(facts: PackageFacts) -> str:
    if facts.source_url is not None:
        return html_link(facts.source_url)
    return html_code(facts.source_path or "") + " in the hub's repository"
