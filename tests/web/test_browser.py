"""The browser the page tests rely on starts, and reaches a Focal server on loopback."""

from __future__ import annotations

from typing import Any

from conftest import RunningServer


def test_chromium_renders_a_page_of_the_server(start_server: Any, page: Any) -> None:
    server: RunningServer = start_server()
    response = page.goto(f"{server.url}/healthz")
    assert response is not None and response.status == 200
    assert "ok" in page.content().lower()
