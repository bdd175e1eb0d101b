"""`<focal-upload>` in headless Chromium: real photos from a page on another origin (the
example application) straight to a real Focal server, through a recording proxy that can
fail a first try."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from fastapi import FastAPI, Request, Response

from conftest import PHOTOS, RunningServer, serving
from example_apps import load_example
from focal import Images
from imaging import decode, marked, red_corner

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
# How long a test waits for what the page does: long, as the machine may be busy (waits end
# as soon as the page gets there; no test measures time).
WAIT_MS = 60_000
HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


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
    proxy_url: str  # where pages reach Focal

    def images(self) -> Images:
        return Images(self.focal.url, token=TOKEN)


@pytest.fixture
def site(start_server: Callable[..., RunningServer]) -> Callable[..., Any]:
    @contextmanager
    def open_site(fail_uploads: int = 0, faces: bool = False, **settings: Any) -> Iterator[Site]:
        # The face model loads only for the test that shows the face-cropped results.
        focal = start_server(api_tokens=(TOKEN,), detector_warm_start=faces, **settings)
        proxy = Proxy(focal.url, fail_uploads)
        with serving(proxy.app()) as (proxy_url, _):
            app = load_example("upload_widget").create_app(proxy_url, TOKEN)
            with serving(app) as (url, _):
                # Another origin than Focal's: another port.
                yield Site(url.replace("127.0.0.1", "localhost"), focal, proxy, proxy_url)

    return open_site


def photo_path(name: str) -> Path:
    [path] = [p for p in PHOTOS.iterdir() if p.stem.split("__")[-1] == name]
    return path


def open_page(page: Any, site: Site, faces: bool = False) -> None:
    """The example's page, recording the widget's events; without `faces` the gallery's
    face-cropped images are not asked for (no face detection runs)."""
    if not faces:
        page.route("**/images/*/face", lambda route: route.abort())
    page.add_init_script(RECORD_EVENTS)
    page.goto(site.url)
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
        timeout=WAIT_MS,
    )
    return events(page, kind)


def test_several_photos_upload_from_another_origin_with_progress(
    site: Callable[..., Any], page: Any, screenshot: Callable[[Any, str], Path]
) -> None:
    names = ["grace_hopper", "single_face", "chelsea"]
    paths = [photo_path(name) for name in names]
    with site(faces=True) as running:
        open_page(page, running, faces=True)
        page.locator("focal-upload input[type=file]").set_input_files([str(p) for p in paths])
        successes = wait_for(page, "success", 3)
        # Each shown with the face-cropped variant, delivered by Focal.
        page.wait_for_function(
            "[...document.querySelectorAll('#gallery img')]"
            ".filter(img => img.complete && img.naturalWidth === 240).length === 3",
            timeout=WAIT_MS,
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


def test_a_failed_upload_is_tried_again_with_the_same_url(
    site: Callable[..., Any], page: Any
) -> None:
    with site(fail_uploads=1) as running:
        open_page(page, running)
        widget = page.locator("focal-upload")
        widget.evaluate("(element) => element.setAttribute('retry-delay', '50')")
        page.locator("focal-upload input[type=file]").set_input_files(str(photo_path("coffee")))
        [success] = wait_for(page, "success", 1)
        [error] = events(page, "error")
        authorized = running.proxy.requests("POST", "/images/v2/direct_upload")
        uploads = [p for method, p in running.proxy.seen if (method, p[:8]) == ("POST", "/upload/")]
        stored = running.images().hosted.image(success["id"]).bytes()
    assert error == {
        "key": success["key"],
        "id": success["id"],
        "filename": "scikit-image__coffee.png",
        "message": "busy",
        "status": 503,
        "code": 9522,
        "attempts": 1,
        "willRetry": True,
        "refused": False,
    }
    assert authorized == 1  # the one-time URL of the failed try was still good
    assert len(uploads) == 2 and uploads[0] == uploads[1] == f"/upload/{success['id']}"
    assert stored == photo_path("coffee").read_bytes()


def test_a_file_over_the_servers_limits_is_refused_before_it_is_sent(
    site: Callable[..., Any], page: Any
) -> None:
    # test2: 55 kB, 411×512; coffee: 467 kB, 600×400; astronaut: 792 kB, 512×512 (262,144
    # pixels, checked first).
    with site(hosted_max_bytes=200_000, max_pixels=250_000) as running:
        open_page(page, running)
        # Without `downscale` (which the example's page sets) a photo too large is refused.
        page.locator("focal-upload").evaluate("(element) => element.removeAttribute('downscale')")
        hint = page.locator("focal-upload .hint")
        hint.filter(has_text="JPEG").wait_for()  # once the server's limits are in
        shown = hint.text_content()
        files = [str(photo_path(name)) for name in ("coffee", "test2", "astronaut")]
        page.locator("focal-upload input[type=file]").set_input_files(files)
        [success] = wait_for(page, "success", 1)
        refusals = wait_for(page, "error", 2)
        statuses = page.locator("focal-upload li .status").all_text_contents()
        authorized = running.proxy.requests("POST", "/images/v2/direct_upload")
        uploaded = running.proxy.requests("POST", "/upload/")
    assert success["filename"] == "facexlib__test2.jpg"
    assert {r["filename"]: r["message"] for r in refusals} == {
        "scikit-image__coffee.png": "455.8 KB is over the 195.3 KB limit",
        "scikit-image__astronaut.png": (
            "512×512 pixels is over the limit (250,000 pixels, 12,000 per side)"
        ),
    }
    assert all(r["refused"] and not r["willRetry"] for r in refusals)
    assert statuses == [
        "455.8 KB is over the 195.3 KB limit",
        "Uploaded",
        "512×512 pixels is over the limit (250,000 pixels, 12,000 per side)",
    ]
    assert authorized == 1 and uploaded == 1  # nothing asked for, nothing sent, for the two
    assert shown == "JPEG, PNG, WEBP, GIF, AVIF, TIFF, HEIC · up to 195.3 KB each"


def test_the_widget_is_used_with_the_keyboard_alone(site: Callable[..., Any], page: Any) -> None:
    choosers: list[Any] = []
    # A listener for the whole test keeps Chromium's file choosers intercepted between the
    # two waits for one below (each wait alone turns interception on and off again).
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    with site() as running:
        open_page(page, running)
        page.keyboard.press("Tab")
        zone = page.get_by_role(
            "button", name="Upload images: drop, paste, or press Enter to choose files"
        )
        assert zone.evaluate("(zone) => zone.getRootNode().activeElement === zone")
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Enter")
        assert chooser.value.is_multiple()
        chooser.value.set_files([str(photo_path("camera")), str(photo_path("rocket"))])
        wait_for(page, "success", 2)
        page.wait_for_function(
            "document.querySelector('focal-upload').shadowRoot"
            ".querySelector('[role=status]').textContent === '2 of 2 uploaded.'"
        )
        # Tab goes on to each upload's button; Enter on "Remove" takes the first away and
        # gives the focus back to the drop zone.
        page.keyboard.press("Tab")
        remove = page.get_by_role("button", name="Remove scikit-image__camera.png")
        assert remove.evaluate("(button) => button.getRootNode().activeElement === button")
        page.keyboard.press("Enter")
        names = page.locator("focal-upload li .name").all_text_contents()
        back_on_zone = zone.evaluate("(zone) => zone.getRootNode().activeElement === zone")
        with page.expect_file_chooser():
            page.keyboard.press(" ")  # Space opens the picker too
        assert len(choosers) == 2
        labels = page.locator("focal-upload progress").evaluate_all(
            "(bars) => bars.map((bar) => bar.getAttribute('aria-label'))"
        )
    assert names == ["scikit-image__rocket.jpg"]
    assert back_on_zone
    assert labels == ["Upload progress of scikit-image__rocket.jpg", "Total upload progress"]


def test_paste_and_drop_take_files(site: Callable[..., Any], page: Any) -> None:
    hand_over = """async ([kind, name]) => {
        const bytes = await (await fetch(`/photo/${name}`)).arrayBuffer();
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
        const widget = document.querySelector("focal-upload");
        if (kind === "paste") {
            widget.focus();
            const paste = { clipboardData: transfer, bubbles: true };
            widget.dispatchEvent(new ClipboardEvent("paste", paste));
        } else {
            const zone = widget.shadowRoot.querySelector(".zone");
            const drag = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", drag));
            zone.dispatchEvent(new DragEvent("drop", drag));
        }
    }"""
    with site() as running:
        open_page(page, running)
        page.route(
            "**/photo/*",
            lambda route: route.fulfill(
                body=(PHOTOS / route.request.url.rsplit("/", 1)[-1]).read_bytes(),
                content_type="image/jpeg",
            ),
        )
        page.evaluate(hand_over, ["paste", "opencv-doc__fruits.jpg"])
        page.evaluate(hand_over, ["drop", "imgaug__quokka.jpg"])
        successes = wait_for(page, "success", 2)
    assert sorted(s["filename"] for s in successes) == [
        "imgaug__quokka.jpg",
        "opencv-doc__fruits.jpg",
    ]


def test_a_large_photo_is_shrunk_upright_before_upload(site: Callable[..., Any], page: Any) -> None:
    # Stored 600×300 with EXIF orientation 6 (turn 90° clockwise): shown 300×600, its red
    # corner at the top right.
    image = marked(600, 300).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    photo = image.jpegsave_buffer(Q=90)
    with site() as running:
        open_page(page, running)
        page.locator("focal-upload").evaluate(
            "(element) => element.setAttribute('downscale', '150')"
        )
        page.locator("focal-upload input[type=file]").set_input_files(
            {"name": "turned.jpg", "mimeType": "image/jpeg", "buffer": photo}
        )
        [success] = wait_for(page, "success", 1)
        stored = decode(running.images().hosted.image(success["id"]).bytes())
    assert (success["width"], success["height"]) == (75, 150)
    assert (stored.width, stored.height) == (75, 150)
    assert stored.get_typeof("orientation") == 0 or stored.get("orientation") == 1
    assert red_corner(stored) == "top-right"


def test_the_module_and_the_classic_build_load_as_modules(
    site: Callable[..., Any], page: Any
) -> None:
    with site() as running:
        page.goto(running.url + "/nothing-here")
        focal = running.proxy_url
        module = page.evaluate(
            "async (url) => { const m = await import(url);"
            " return [m.VERSION, m.FocalUploadElement === customElements.get('focal-upload')]; }",
            f"{focal}/widget/v1/focal-upload.mjs",
        )
        page.goto(running.url + "/nothing-here")
        page.add_script_tag(url=f"{focal}/widget/v1/focal-upload.js", type="module")
        page.evaluate("customElements.whenDefined('focal-upload')")
        # Loaded as a module, the build still finds the server's limits beside its script.
        page.evaluate("document.body.append(document.createElement('focal-upload'))")
        hint = page.locator("focal-upload .hint").filter(has_text="JPEG")
        hint.wait_for()
        shown = hint.text_content()
    assert module == ["1.0.0", True]
    assert shown == "JPEG, PNG, WEBP, GIF, AVIF, TIFF, HEIC · up to 10 MB each"


def test_an_upload_waiting_to_be_tried_again_can_be_cancelled_then_retried(
    site: Callable[..., Any], page: Any
) -> None:
    with site(fail_uploads=1) as running:
        open_page(page, running)
        widget = page.locator("focal-upload")
        widget.evaluate("(element) => element.setAttribute('retry-delay', '60000')")
        page.locator("focal-upload input[type=file]").set_input_files(str(photo_path("fruits")))
        wait_for(page, "error", 1)  # the failed first try: the next is a minute away
        status = page.locator("focal-upload li .status")
        waiting = status.text_content()
        page.get_by_role("button", name="Cancel upload of opencv-doc__fruits.jpg").click()
        cancelled = status.text_content()
        page.get_by_role("button", name="Retry upload of opencv-doc__fruits.jpg").click()
        [success] = wait_for(page, "success", 1)
        authorized = running.proxy.requests("POST", "/images/v2/direct_upload")
        stored = running.images().hosted.image(success["id"]).bytes()
    assert waiting == "busy; trying again in 60 s"
    assert cancelled == "Cancelled"
    assert authorized == 2  # a retry by hand asks for a new one-time URL
    assert stored == photo_path("fruits").read_bytes()


def test_max_files_and_a_single_file_are_kept_to(site: Callable[..., Any], page: Any) -> None:
    files = [str(photo_path(name)) for name in ("camera", "rocket", "fruits")]
    with site() as running:
        open_page(page, running)
        widget = page.locator("focal-upload")
        widget.evaluate("(element) => element.setAttribute('max-files', '2')")
        page.locator("focal-upload input[type=file]").set_input_files(files)
        wait_for(page, "success", 2)
        [refusal] = wait_for(page, "error", 1)
        widget.evaluate(
            "(element) => { element.removeAttribute('max-files');"
            " element.removeAttribute('multiple'); }"
        )
        multiple = page.locator("focal-upload input[type=file]").evaluate("(i) => i.multiple")
        live = widget.evaluate(
            "(element) => { element.addFiles([new File(['a'], 'a.jpg'), new File(['b'], 'b.jpg')]);"
            " return element.shadowRoot.querySelector('[role=status]').textContent; }"
        )
        names = page.locator("focal-upload li .name").all_text_contents()
    assert refusal["filename"] == "opencv-doc__fruits.jpg"
    assert refusal["message"] == "at most 2 files can be uploaded here"
    assert multiple is False
    assert live == "Only one file at a time: 1 left out."
    assert names[-1] == "a.jpg" and "b.jpg" not in names


def test_a_bundled_module_learns_the_limits_from_the_first_upload_url(
    site: Callable[..., Any], page: Any
) -> None:
    # As an application's bundle serves it: from its own origin, not beside Focal's limits.
    module = (Path(__file__).resolve().parents[2] / "widget" / "focal-upload.js").read_text()
    with site(hosted_max_bytes=200_000) as running:
        page.route(
            "**/bundle/focal-upload.js",
            lambda route: route.fulfill(body=module, content_type="text/javascript"),
        )
        page.add_init_script(RECORD_EVENTS)
        page.request.get(running.url + "/")  # the session cookie, in the page's context
        page.goto(running.url + "/nothing-here")
        page.add_script_tag(url=running.url + "/bundle/focal-upload.js", type="module")
        page.evaluate(
            "customElements.whenDefined('focal-upload').then(() => {"
            " const element = document.createElement('focal-upload');"
            " element.setAttribute('authorize-url', '/api/authorize-upload');"
            " element.setAttribute('multiple', '');"
            " document.body.append(element); })"
        )
        input_ = page.locator("focal-upload input[type=file]")
        input_.set_input_files(str(photo_path("coffee")))  # 467 kB
        [first] = wait_for(page, "error", 1)
        input_.set_input_files(str(photo_path("astronaut")))  # 792 kB
        second = wait_for(page, "error", 2)[1]
        authorized = running.proxy.requests("POST", "/images/v2/direct_upload")
        uploaded = running.proxy.requests("POST", "/upload/")
    assert first["message"] == "455.8 KB is over the 195.3 KB limit" and first["refused"]
    assert second["message"] == "773.0 KB is over the 195.3 KB limit"
    assert authorized == 1  # the first was authorized before the limits were known
    assert uploaded == 0  # neither was sent
