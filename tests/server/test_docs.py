"""/docs and /redoc work offline: every asset their pages load comes from this server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from conftest import RunningServer

EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class References(HTMLParser):
    """The URLs a page loads: src and href attributes, and ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)


def references(page: str) -> list[str]:
    parser = References()
    parser.feed(page)
    # Swagger UI's script names the schema and its OAuth2 page in JavaScript.
    quoted = re.findall(r"url:\s*'([^']+)'", page) + re.findall(r"\+ '(/[^']+)'", page)
    return parser.urls + quoted


@pytest.fixture
def client(start_server: Any) -> Iterator[httpx.Client]:
    server: RunningServer = start_server(detector_warm_start=False)
    with server.client() as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_only_local_assets(client: httpx.Client, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = references(response.text)
    assert any(url.endswith(".js") for url in urls), urls  # the page's viewer is referenced
    assert "/openapi.json" in urls
    base = str(client.base_url) + page
    for url in urls:
        absolute = urljoin(base, url)
        assert urlsplit(absolute).netloc == client.base_url.netloc.decode(), f"{page} loads {url}"
        asset = client.get(absolute)
        assert asset.status_code == 200, url
        suffix = "." + url.rsplit(".", 1)[-1] if "." in url.rsplit("/", 1)[-1] else ""
        expected = EXPECTED_TYPES.get(suffix, "json" if url == "/openapi.json" else "text/html")
        assert expected in asset.headers["content-type"], (url, asset.headers["content-type"])
    assert not re.search(r"https?://", response.text), "a page names another host"
