"""The upload widget's example backend over HTTP: who may get an upload URL, and what it is."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from conftest import RunningServer, read_photo, serving
from example_apps import load_example


def test_a_signed_in_page_gets_a_one_time_upload_url(
    start_server: Callable[..., RunningServer],
) -> None:
    focal = start_server(api_tokens=("secret",))
    example = load_example("upload_widget")
    app = example.create_app(focal.url, "secret")
    with serving(app) as (url, _), httpx.Client(base_url=url, timeout=30) as browser:
        refused = browser.post("/api/authorize-upload")
        page = browser.get("/")  # sets the session cookie
        facts = {"filename": "cat.png", "type": "image/png", "size": 3, "other": "x"}
        grant = browser.post("/api/authorize-upload", json=facts).json()
        junk = browser.post("/api/authorize-upload", content=b"not json").json()
    assert refused.status_code == 401
    assert refused.json() == {"message": "sign in first (open the page)"}
    assert f'<script src="{focal.url}/widget/v1/focal-upload.js">' in page.text
    assert '<focal-upload authorize-url="/api/authorize-upload"' in page.text
    assert set(grant) == {"uploadURL", "id"} and set(junk) == {"uploadURL", "id"}
    assert grant["uploadURL"].startswith(f"{focal.url}/upload/{grant['id']}?")
    # The URL takes the file without a token; the image keeps what the page said of it.
    files = {"file": ("cat.png", read_photo("chelsea"), "image/png")}
    stored = httpx.post(grant["uploadURL"], files=files, timeout=30).json()["result"]
    assert stored["id"] == grant["id"] and stored["filename"] == "cat.png"
    metadata = dict(stored["metadata"])
    assert len(metadata.pop("session")) == 8  # which session asked, not its whole secret
    assert metadata == {"filename": "cat.png", "type": "image/png", "size": 3}
    assert any(variant.endswith(f"/images/{grant['id']}/face") for variant in stored["variants"])


def test_the_face_variant_is_made_once_and_kept_up_to_date(
    start_server: Callable[..., RunningServer],
) -> None:
    focal = start_server(api_tokens=("secret",))
    example = load_example("upload_widget")
    for _ in range(2):  # the second start finds the variant there already
        with serving(example.create_app(focal.url, "secret")):
            pass
    with focal.client(headers={"Authorization": "Bearer secret"}) as client:
        variant = client.get("/images/v1/variants/face").json()["result"]["variant"]
    assert variant["options"] == {
        "fit": "cover",
        "metadata": "none",
        "width": 240,
        "height": 240,
        "gravity": "face",
    }
    assert variant["neverRequireSignedURLs"] is True


def test_a_refusal_of_focal_is_passed_on_to_the_page(
    start_server: Callable[..., RunningServer],
) -> None:
    focal = start_server(api_tokens=("secret",), hosted_images_quota=1)
    example = load_example("upload_widget")
    app = example.create_app(focal.url, "secret")
    with serving(app) as (url, _), httpx.Client(base_url=url, timeout=30) as browser:
        browser.get("/")
        first = browser.post("/api/authorize-upload", json={})
        files = {"file": ("a.png", read_photo("chelsea"), "image/png")}
        httpx.post(first.json()["uploadURL"], files=files, timeout=30)
        second = browser.post("/api/authorize-upload", json={})
    assert second.status_code == 429
    assert "quota" in second.json()["message"]
