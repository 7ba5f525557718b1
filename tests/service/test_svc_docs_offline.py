"""/docs and /redoc load every script, style and icon from the app itself (they used to come from a CDN,
so the page was blank offline)."""

from __future__ import annotations

import re

import pytest
from svc_harness import Server

_REFERENCE_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_the_app(server: Server, page: str) -> None:
    import httpx

    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        references = [a or b for a, b in _REFERENCE_RE.findall(html.text)]
        assert references, html.text
        assert "://" not in html.text.replace("http://www.w3.org", ""), "the page names another host"
        for reference in references:
            assert reference.startswith("/"), reference
            asset = client.get(reference)
            assert asset.status_code == 200, reference
            assert len(asset.content) > 100, reference
        if page == "/docs":
            assert '"validatorUrl": null' in html.text
