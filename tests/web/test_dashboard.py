"""The dashboard in headless Chromium, against a real server: every screen's main flow."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import PHOTOS, RunningServer, read_photo, running_server, server_settings
from focal.signing import signed_url

TOKEN = "dashboard-browser-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Shot = Callable[[Any, str], Path]
UPLOADED = ("astronaut", "rocket")  # the photos the widget test uploads


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the module: the face detector starts once, when faces are first asked
    for (not at start-up, which would compete with the first tests for the CPU)."""
    settings = server_settings(
        tmp_path_factory.mktemp("dashboard"),
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        detector_timeout=300,  # patience on a busy machine; no test here is about time
    )
    with running_server(settings) as running:
        yield running


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=120) as client:
        yield client


def result(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200, body
    return body["result"]


def upload(api: httpx.Client, name: str, image_id: str | None, **fields: str) -> dict[str, Any]:
    files = {"file": (f"{name}.jpg", read_photo(name))}
    data = {"id": image_id, **fields} if image_id else fields
    return result(api.post("/images/v1", files=files, data=data))


def open_dashboard(page: Any, server: RunningServer, hash_: str = "") -> None:
    # Patient: the machine running the tests may be busy; nothing here asserts on time.
    page.set_default_timeout(60_000)
    page.goto(f"{server.url}/dashboard{hash_}")


def wait_until(page: Any, expression: str, arg: Any = None) -> None:
    """Until `expression` holds in the page, checked every 100 ms (not per animation frame,
    which a busy headless browser may not draw)."""
    page.wait_for_function(expression, arg=arg, polling=100)


def sign_in(page: Any, server: RunningServer, hash_: str = "") -> None:
    open_dashboard(page, server, hash_)
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("nav[aria-label=Dashboard]")


def image_loaded(page: Any, selector: str) -> None:
    wait_until(
        page,
        "s => { const i = document.querySelector(s); return i?.complete && i.naturalWidth > 0 }",
        selector,
    )


def test_a_wrong_token_is_refused_and_not_kept(server: RunningServer, page: Any) -> None:
    open_dashboard(page, server)
    # The field has the focus, and Enter signs in: no mouse needed.
    wait_until(page, "document.activeElement?.id === 'token'")
    page.keyboard.type("not-a-token")
    page.keyboard.press("Enter")
    alert = page.wait_for_selector("[role=alert]")
    assert "not accepted" in alert.inner_text()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.query_selector("nav") is None


def test_sign_in_keeps_the_token_in_this_tab_only(
    server: RunningServer, api: httpx.Client, page: Any
) -> None:
    upload(api, "biden", "grid/biden")
    sign_in(page, server)
    page.wait_for_selector('.image-card[data-id="grid/biden"] img')
    image_loaded(page, '.image-card[data-id="grid/biden"] img')
    assert page.evaluate("Object.values(sessionStorage)") == [TOKEN]
    assert page.evaluate("localStorage.length") == 0
    assert TOKEN not in page.evaluate("document.cookie")
    # The grant the upload widget's authorize-url relies on: this browser's cookie mints a
    # one-time upload URL, which takes a file.
    minted = page.evaluate(
        """async () => {
            const minted = await fetch('/dashboard/authorize-upload', {method: 'POST'});
            const {id, uploadURL} = await minted.json();
            const form = new FormData();
            const token = Object.values(sessionStorage)[0];
            const headers = {Authorization: `Bearer ${token}`};
            const photo = await (await fetch('/images/v1/grid/biden/blob', {headers})).blob();
            form.append('file', photo, 'again.jpg');
            const sent = await fetch(uploadURL, {method: 'POST', body: form});
            return {id, status: sent.status};
        }"""
    )
    assert minted["status"] == 200
    stored = result(api.get(f"/images/v1/{minted['id']}"))
    assert stored["filename"] == "again.jpg" and "draft" not in stored
    # A reload stays signed in; a new tab (a new context here) does not.
    page.reload()
    page.wait_for_selector("nav[aria-label=Dashboard]")
    page.click("text=Sign out")
    page.wait_for_selector("#token")
    assert page.evaluate("sessionStorage.length") == 0
    after = "async () => (await fetch('/dashboard/authorize-upload', {method: 'POST'})).status"
    assert page.evaluate(after) == 401  # the upload grant went with the token


def test_uploads_through_the_widget_appear_in_the_grid(
    server: RunningServer, api: httpx.Client, page: Any
) -> None:
    sign_in(page, server)
    page.wait_for_selector("focal-upload")
    photos = [path for path in PHOTOS.iterdir() if path.stem.split("__")[-1] in UPLOADED]
    page.locator("focal-upload input[type=file]").set_input_files([str(p) for p in photos])
    for path in photos:
        page.wait_for_selector(f'.image-card:has-text("{path.name}") img')
    listed = result(api.get("/images/v2", params={"per_page": 100}))["images"]
    stored = {image["filename"] for image in listed if "draft" not in image}
    assert {path.name for path in photos} <= stored


def test_paging_and_search_by_id(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    for index in range(21):  # one more than a page
        upload(api, "coffee", f"paging/{index:02d}")
    sign_in(page, server)
    wait_until(page, "document.querySelectorAll('.image-card').length === 20")
    screenshot(page, "images")
    page.click("text=Load more")
    wait_until(page, "document.querySelectorAll('.image-card').length > 20")
    page.fill("#image-search", "no/such/image")
    page.get_by_role("button", name="Open").click()
    assert 'No image with id "no/such/image"' in page.wait_for_selector("[role=alert]").inner_text()
    page.fill("#image-search", "paging/03")
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector("text=Original")
    assert "paging/03" in page.inner_text("dl.facts-list")


def test_image_details_faces_metadata_and_delete(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    image = upload(api, "multi_face", "people/group", metadata='{"team": "a"}')
    avatar = {"width": 160, "height": 160, "fit": "cover", "gravity": "face", "zoom": 0.2}
    result(api.post("/images/v1/variants", json={"id": "avatar", "options": avatar}))
    found = result(api.get("/images/v1/people/group/faces"))
    faces = found["faces"]
    assert len(faces) >= 2, found
    sign_in(page, server, "#/images/people%2Fgroup")
    figure = page.wait_for_selector(".faces .boxed[data-faces]")
    assert figure.get_attribute("data-faces") == str(len(faces))
    assert len(figure.query_selector_all("rect.face")) == len(faces)
    first = figure.query_selector("rect.face")
    assert float(first.get_attribute("x")) == faces[0]["x"]
    image_loaded(page, ".faces .boxed img")
    wait_until(
        page,
        "[...document.querySelectorAll('.variants-grid img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    facts = page.inner_text("dl.facts-list")
    assert f"{image['width']} × {image['height']} px" in facts
    screenshot(page.locator("main"), "dashboard-image")

    page.fill("#metadata", '{"team": "b", "shot": 2}')
    page.check("#require-signed")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Saved.")
    saved = result(api.get("/images/v1/people/group"))
    assert saved["metadata"] == {"team": "b", "shot": 2}
    assert saved["requireSignedURLs"] is True

    page.fill("#metadata", "{not json")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "not JSON" in page.wait_for_selector("[role=alert]").inner_text()

    page.click("text=Delete image…")
    page.click("dialog.confirm >> text=Cancel")
    assert api.get("/images/v1/people/group").status_code == 200
    page.click("text=Delete image…")
    page.click("dialog.confirm >> button.danger")
    page.wait_for_selector("focal-images")
    assert api.get("/images/v1/people/group").status_code == 404


def test_a_variant_made_in_the_form_is_listed_and_previewed(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    upload(api, "grace_hopper", "shop/grace")
    sign_in(page, server, "#/variants")
    page.wait_for_selector("#flexible-variants")
    page.check("#flexible-variants")
    page.wait_for_selector("text=Flexible variants are on.")
    assert result(api.get("/images/v1/config"))["flexible_variants"] is True
    page.fill("#variant-id", "square")
    page.fill("#variant-width", "120")
    page.fill("#variant-height", "120")
    page.select_option("#variant-fit", "cover")
    page.select_option("#variant-gravity", "face")
    # Live preview before saving: the form's options as a flexible variant.
    wait_until(
        page, "document.querySelector('.preview').src.includes('width=120,height=120,fit=cover')"
    )
    image_loaded(page, ".preview")
    assert page.evaluate("document.querySelector('.preview').naturalWidth") == 120
    screenshot(page, "variants")
    page.get_by_role("button", name="Save variant").click()
    page.wait_for_selector('tr[data-variant="square"]')
    made = result(api.get("/images/v1/variants/square"))["variant"]
    assert made["options"]["width"] == 120 and made["options"]["fit"] == "cover"

    page.click('tr[data-variant="square"] >> text=Edit')
    page.fill("#variant-width", "90")
    page.get_by_role("button", name="Save variant").click()
    page.wait_for_selector("text=Variant square saved.")
    assert result(api.get("/images/v1/variants/square"))["variant"]["options"]["width"] == 90

    page.goto(f"{server.url}/dashboard#/images/shop%2Fgrace")
    page.wait_for_selector('[data-variant="square"] img')
    image_loaded(page, '[data-variant="square"] img')
    assert page.evaluate("document.querySelector('[data-variant=square] img').naturalWidth") == 90

    page.goto(f"{server.url}/dashboard#/variants")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('tr[data-variant="square"] >> text=Delete')
    page.wait_for_selector("text=Variant square deleted.")
    assert api.get("/images/v1/variants/square").status_code == 404


def test_rotating_keys_and_the_signed_url_maker(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    image_id = upload(api, "obama3", None, requireSignedURLs="true")["id"]
    result(api.post("/images/v1/variants", json={"id": "small", "options": {"width": 64}}))
    before = result(api.get("/images/v1/keys"))["keys"]
    sign_in(page, server, "#/keys")
    page.wait_for_selector(f'tr[data-key="{before[0]["name"]}"]')
    page.click("#rotate")
    page.wait_for_selector("text=Keys rotated")
    after = result(api.get("/images/v1/keys"))["keys"]
    assert after[0]["name"] != before[0]["name"]
    assert page.inner_text("table.keys tbody tr:first-child .secret") == after[0]["value"]

    page.select_option("#sign-image", image_id)
    page.select_option("#sign-variant", "small")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_selector("#signed-check[data-status]")
    assert page.get_attribute("#signed-check", "data-status") == "200"
    screenshot(page, "keys")
    url = page.inner_text("#signed-url")
    expires = int(re.search(r"exp=(\d+)", url).group(1))  # type: ignore[union-attr]
    assert expires > time.time()
    # The page signs as focal.signing does, with the newest key.
    assert url == server.url + signed_url(after[0]["value"], f"/images/{image_id}/small", expires)
    assert httpx.get(url).status_code == 200
    assert httpx.get(f"{server.url}/images/{image_id}/small").status_code == 403


def test_usage_charts_are_drawn_with_the_days_data(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    upload(api, "chelsea", "usage/chelsea")
    result(api.patch("/images/v1/config", json={"flexible_variants": True}))
    (server.origin / "chelsea.png").write_bytes(read_photo("chelsea"))
    for width in (50, 60):
        assert httpx.get(f"{server.url}/images/usage/chelsea/width={width}").status_code == 200
        made = httpx.get(f"{server.url}/cdn-cgi/image/width={width}/chelsea.png", timeout=120)
        assert made.status_code == 200
    sign_in(page, server, "#/usage")
    page.wait_for_selector('figure.chart[data-series="deliveries"] canvas')
    for series in ("unique_transformations", "deliveries", "images_stored", "cost"):
        chart = page.query_selector(f'figure.chart[data-series="{series}"]')
        assert chart is not None and chart.query_selector("canvas") is not None
    for series in ("unique_transformations", "deliveries", "images_stored"):
        drawn = page.get_attribute(f'figure.chart[data-series="{series}"]', "data-points")
        assert int(drawn or 0) >= 1, series
    report = api.get("/usage").json()
    totals = page.inner_text("dl.totals")
    assert str(report["total"]["deliveries"]) in totals
    assert str(report["total"]["unique_transformations"]) in totals
    screenshot(page, "usage")


def test_the_playground_shows_the_url_it_loads(
    server: RunningServer, api: httpx.Client, page: Any, screenshot: Shot
) -> None:
    upload(api, "single_face", "playground/face")
    result(api.patch("/images/v1/config", json={"flexible_variants": False}))
    sign_in(page, server, "#/playground?image=playground/face")
    page.wait_for_selector("text=Switch flexible variants on")
    page.click("text=Switch flexible variants on")
    image_loaded(page, "#playground-result")
    page.fill("#pg-width", "200")
    page.fill("#pg-height", "150")
    wait_until(
        page,
        "document.querySelector('#playground-result').dataset.url.includes('width=200,height=150')",
    )
    image_loaded(page, "#playground-result")
    shown = page.get_attribute("#playground-url", "data-url")
    assert shown == page.get_attribute("#playground-result", "data-url")
    assert page.inner_text("#playground-url") == server.url + shown
    assert (
        shown
        == "/images/playground/face/width=200,height=150,fit=cover,gravity=face,zoom=0.5,quality=85"
    )
    size = page.evaluate(
        "[document.querySelector('#playground-result').naturalWidth,"
        " document.querySelector('#playground-result').naturalHeight]"
    )
    assert size == [200, 150]
    headers = page.inner_text("#playground-headers")
    assert "image/" in headers and "focal-gravity" in headers and "face; faces=1" in headers
    crop = page.get_attribute(".original .boxed", "data-crop")
    assert crop and page.query_selector(".original rect.crop") is not None
    assert page.query_selector(".original rect.face") is not None
    screenshot(page, "playground")

    # An origin path instead: the URL form, /cdn-cgi/image/<options>/<path>.
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    page.fill("#pg-path", "cat.png")
    wait_until(
        page, "document.querySelector('#playground-result').dataset.url.startsWith('/cdn-cgi/')"
    )
    image_loaded(page, "#playground-result")
    assert page.get_attribute("#playground-url", "data-url") == (
        "/cdn-cgi/image/width=200,height=150,fit=cover,gravity=face,zoom=0.5,quality=85/cat.png"
    )
