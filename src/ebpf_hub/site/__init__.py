"""The catalogue website: generated pages over hand-written ones, built with MkDocs Material.

`build_site` writes the whole site (and the JSON index under api/v1) into a directory;
`serve_site` serves it locally and rebuilds it when an input changes.
"""

from ebpf_hub.site.build import build_site
from ebpf_hub.site.serve import serve_site

__all__ = ["build_site", "serve_site"]
