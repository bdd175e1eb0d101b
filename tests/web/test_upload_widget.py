"""`<focal-upload>` in headless Chromium: real photos from a page on another origin (the
example application) straight to a real Focal server, through a recording proxy that can
fail a first try."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from conftest import PHOTOS, RunningServer, serving
from focal import Images

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "upload_widget"
TOKEN = "secret"
EVENTS = ("focal-upload-success", "focal-upload-error", "focal-upload-progress")
# Every event of the widget, recorded on the page as it bubbles up to the document.
RECORD_EVENTS = f"""
window.focalEvents = [];
for (const type of {json.dumps(EVENTS)}) {{
  document.addEventListener(type, (event) =>
    window.focalEvents.push({{ type, detail: JSON.parse(JSON.stringify(event.detail)) }}));
}}
"""
HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("upload_widget_app", EXAMPLE / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Proxy:
    """Forwards everything to Focal, keeping the Host (so upload URLs point here); answers
    503 to the first `fail_uploads` one-time uploads, as a server having a bad moment."""

    target: str
    fail_uploads: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)

    def requests(self, method: str, prefix: str) -> int:
        return sum(1 for m, path in self.seen if m == method and path.startswith(prefix))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PATCH", "OPTIONS"])
        async def forward(request: Request, path: str) -> Response:
            self.seen.append((request.method, request.url.path))
            if request.method == "POST" and path.startswith("upload/") and self.fail_uploads:
                self.fail_uploads -= 1
                await request.body()
                body = {"success": False, "errors": [{"code": 9522, "message": "busy"}]}
                headers = {"Access-Control-Allow-Origin": "*"}
                return Response(json.dumps(body), 503, headers, "application/json")
            headers = {k: v for k, v in request.headers.items() if k != "content-length"}
            async with httpx.AsyncClient(base_url=self.target, timeout=60) as client:
                answer = await client.request(
                    request.method,
                    request.url.path,
                    params=request.query_params,
                    headers=headers,
                    content=await request.body(),
                )
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
            return Response(answer.content, answer.status_code, kept)

        return app


@dataclass
class Site:
    """The example app's page URL, Focal behind its proxy, and the proxy's record."""

    url: str
    focal: RunningServer
    proxy: Proxy

    def images(self) -> Images:
        return Images(self.focal.url, token=TOKEN)


@pytest.fixture
def site(start_server: Callable[..., RunningServer]) -> Callable[..., Any]:
    @contextmanager
    def open_site(fail_uploads: int = 0, **settings: Any) -> Iterator[Site]:
        focal = start_server(api_tokens=(TOKEN,), **settings)
        proxy = Proxy(focal.url, fail_uploads)
        with serving(proxy.app()) as (proxy_url, _):
            app = load_example().create_app(proxy_url, TOKEN)
            with serving(app) as (url, _):
                # Another origin than Focal's: another port.
                yield Site(url.replace("127.0.0.1", "localhost"), focal, proxy)

    return open_site


def photo_path(name: str) -> Path:
    [path] = [p for p in PHOTOS.iterdir() if p.stem.split("__")[-1] == name]
    return path


def open_page(page: Any, site: Site, path: str = "/") -> None:
    page.add_init_script(RECORD_EVENTS)
    page.goto(site.url + path)
    page.wait_for_function("customElements.get('focal-upload') !== undefined")


def events(page: Any, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "(type) => window.focalEvents.filter(e => e.type === type).map(e => e.detail)",
        f"focal-upload-{kind}",
    )
    return found


def wait_for(page: Any, kind: str, count: int) -> list[dict[str, Any]]:
    page.wait_for_function(
        "([type, count]) => window.focalEvents.filter(e => e.type === type).length >= count",
        arg=[f"focal-upload-{kind}", count],
    )
    return events(page, kind)


def test_several_photos_upload_from_another_origin_with_progress(
    site: Callable[..., Any], page: Any, screenshot: Callable[[Any, str], Path]
) -> None:
    names = ["grace_hopper", "single_face", "chelsea"]
    paths = [photo_path(name) for name in names]
    with site() as running:
        open_page(page, running)
        page.locator("focal-upload input[type=file]").set_input_files([str(p) for p in paths])
        successes = wait_for(page, "success", 3)
        # Each shown with the face-cropped variant, delivered by Focal.
        page.wait_for_function(
            "[...document.querySelectorAll('#gallery img')]"
            ".filter(img => img.complete && img.naturalWidth === 240).length === 3"
        )
        screenshot(page, "upload-widget")
        stored = {s["filename"]: running.images().hosted.image(s["id"]).bytes() for s in successes}
        authorized = running.proxy.requests("POST", "/images/v2/direct_upload")
        uploaded = running.proxy.requests("POST", "/upload/")
        progress = events(page, "progress")
        live = page.locator("focal-upload [role=status]").text_content()
    assert stored == {p.name: p.read_bytes() for p in paths}  # byte for byte
    assert authorized == 3 and uploaded == 3  # one authorization and one upload per file
    for success in successes:
        assert any(url.endswith(f"/images/{success['id']}/face") for url in success["variants"])
    for path in paths:
        mine = [e for e in progress if e["filename"] == path.name]
        loaded = [e["loaded"] for e in mine]
        assert loaded == sorted(loaded) and loaded[-1] == mine[-1]["total"] == path.stat().st_size
    total = sum(p.stat().st_size for p in paths)
    assert progress[-1]["totalLoaded"] == progress[-1]["totalBytes"] == total
    assert progress[-1]["progress"] == 1
    assert live == "3 of 3 uploaded."
