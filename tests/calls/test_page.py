"""The call page in Chromium (fake camera and microphone), with the example's room endpoint.

What reaches other participants is tested with aiortc clients on loopback (test_media.py);
here the page's UI: joining, the participants' tiles, the local preview, leaving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from browser import CHROMIUM_ARGS, chromium_path, require_chromium
from calls.server import CallsApp
from conftest import RunningServer, serving
from example_apps import load_example

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def room_url(calls_server: RunningServer, calls_app: CallsApp) -> Iterator[str]:
    room = load_example("calls_room")
    app = room.room_app(room.CallsApp(calls_server.url, calls_app.id, calls_app.secret))
    with serving(app) as (url, _loop):
        yield url


@pytest.fixture
def media_page() -> Iterator[Any]:
    """A page of a Chromium with a fake camera and microphone, allowed without asking.

    Its own Playwright, stopped after the test: the sync API keeps an event loop running in
    this thread while it lives, and the tests after this one call asyncio.run."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=[*CHROMIUM_ARGS, *FAKE_MEDIA]
        )
        context = chromium.new_context()
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page
        finally:
            chromium.close()
    assert not errors, f"the page threw: {errors}"


def test_joining_shows_the_preview_and_the_other_participants_then_leaving(
    calls_server: RunningServer,
    calls_app: CallsApp,
    room_url: str,
    media_page: Any,
    screenshot: Any,
) -> None:
    other = httpx.post(f"{room_url}/api/join", json={"name": "Grace"}).json()["sessionId"]
    page = media_page
    page.goto(f"{calls_server.url}/calls/room?endpoint={room_url}")
    assert page.locator("#status").inner_text() == "Not in the call."
    page.fill("#name", "Ada")
    page.click("#join-button")
    page.wait_for_function(
        "document.getElementById('status').textContent.includes('2 participant(s)')"
    )
    assert page.locator("#status").inner_text() == "In the call as Ada: 2 participant(s)."
    captions = page.locator("figcaption").all_inner_texts()
    assert sorted(captions) == ["Ada (you)", "Grace"]
    kinds = page.evaluate(
        "[...document.querySelector('figure video').srcObject.getTracks()].map(t => t.kind)"
    )
    assert sorted(kinds) == ["audio", "video"]
    # The page pushed both tracks: the room lists them, and the SFU holds them.
    room = httpx.get(f"{room_url}/api/room").json()["participants"]
    ada = next(p for p in room if p["name"] == "Ada")
    assert sorted(ada["tracks"]) == ["audio", "video"]
    sfu = calls_server.parts.calls
    assert sfu is not None
    pushed = sfu.session(calls_app.id, ada["sessionId"]).local.values()
    assert {track.name for track in pushed} == {"audio", "video"}
    screenshot(page, "calls-room")
    httpx.post(f"{room_url}/api/leave", json={"sessionId": other})
    page.wait_for_function("document.querySelectorAll('figure').length === 1")
    page.click("#leave-button")
    page.wait_for_function("document.getElementById('status').textContent === 'Not in the call.'")
    assert page.locator("figure").count() == 0
