"""/dashboard's files and upload grant, and an image's faces over the hosted API."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import RunningServer, read_photo
from focal.server.dashboard_routes import AUTHORIZE_PATH, GRANT_COOKIE
from focal.signing import url_signature

TOKEN = "dashboard-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def server(start_server: object) -> RunningServer:
    return start_server(api_tokens=(TOKEN,), detector_warm_start=False)  # type: ignore[operator]


def grant(value: str) -> dict[str, str]:
    return {"Cookie": f"{GRANT_COOKIE}={value}"}


def result(response: httpx.Response) -> dict:
    body = response.json()
    assert response.status_code == 200, body
    assert body["success"] is True
    return body["result"]


def test_the_page_and_its_scripts_come_from_the_package(server: RunningServer) -> None:
    with server.client() as client:
        page = client.get("/dashboard")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert '<script type="module" src="/dashboard/app.js">' in page.text
        assert client.get("/dashboard/").text == page.text
        script = client.get("/dashboard/app.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        # Revalidation: the same file, unchanged, is a 304 with no body.
        again = client.get("/dashboard/app.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        chart = client.get("/dashboard/vendor/uplot/uPlot.esm.js")
        assert chart.status_code == 200 and "export { uPlot as default }" in chart.text
        assert client.get("/dashboard/vendor/uplot/LICENSE").status_code == 200


def test_no_file_outside_the_pages_is_served(server: RunningServer) -> None:
    with server.client() as client:
        assert client.get("/dashboard/missing.js").status_code == 404
        # The package's Python files sit beside the pages' folder: not reachable.
        assert client.get("/dashboard/../__init__.py").status_code == 404
        assert client.get("/dashboard/%2e%2e/__init__.py").status_code == 404
        assert client.get("/dashboard/vendor/../__init__.py").status_code == 404


def test_an_upload_grant_mints_one_time_upload_urls(server: RunningServer) -> None:
    with server.client() as client:
        granted = client.post("/dashboard/upload-grant", headers=AUTH)
        assert granted.status_code == 204
        cookie = granted.headers["set-cookie"]
        assert f"Path={AUTHORIZE_PATH}" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        minted = client.post(AUTHORIZE_PATH)  # the client sends the cookie back, as a browser
        assert minted.status_code == 200, minted.text
        body = minted.json()
        assert set(body) == {"id", "uploadURL"}
        photo = read_photo("grace_hopper")
        uploaded = httpx.post(body["uploadURL"], files={"file": ("grace.jpg", photo)})
        assert result(uploaded)["id"] == body["id"]
        assert result(client.get(f"/images/v1/{body['id']}", headers=AUTH))["width"] == 512
        # Signing out drops the grant: no more upload URLs from this browser.
        assert client.delete("/dashboard/upload-grant").status_code == 204
        assert client.post(AUTHORIZE_PATH).status_code == 401


def test_minting_upload_urls_needs_a_valid_grant(server: RunningServer) -> None:
    with server.client() as client:
        refused = client.post(AUTHORIZE_PATH)
        assert refused.status_code == 401
        assert "sign in to the dashboard" in refused.text
        # A grant needs the token: none, no cookie.
        assert client.post("/dashboard/upload-grant").status_code == 401
        keys = result(client.get("/images/v1/keys", headers=AUTH))["keys"]
        expired = int(time.time()) - 10
        old = f"{expired}.{url_signature(keys[0]['value'], AUTHORIZE_PATH, expired)}"
        stale = client.post(AUTHORIZE_PATH, headers=grant(old))
        assert stale.status_code == 403 and "expired" in stale.text
        later = int(time.time()) + 600
        forged = client.post(AUTHORIZE_PATH, headers=grant(f"{later}.{'0' * 64}"))
        assert forged.status_code == 403 and "wrong" in forged.text
        # An image URL's signature is no grant: the signed path differs.
        image_sig = url_signature(keys[0]["value"], "/images/x/public", later)
        other = client.post(AUTHORIZE_PATH, headers=grant(f"{later}.{image_sig}"))
        assert other.status_code == 403


def test_an_images_faces_are_its_detected_boxes(server: RunningServer) -> None:
    with server.client() as client:
        photo = read_photo("grace_hopper")
        uploaded = client.post(
            "/images/v1", headers=AUTH, files={"file": ("grace.jpg", photo)}, data={"id": "a/b"}
        )
        assert result(uploaded)["id"] == "a/b"
        found = result(client.get("/images/v1/a/b/faces", headers=AUTH))
        assert (found["width"], found["height"]) == (512, 600)
        assert found["detection"] == "detected"
        assert len(found["faces"]) == 1
        face = found["faces"][0]
        # Grace Hopper's face is in the upper middle of the portrait.
        assert 100 < face["x"] + face["width"] / 2 < 400
        assert 50 < face["y"] + face["height"] / 2 < 350
        assert face["score"] > 0.9
        again = result(client.get("/images/v1/a/b/faces", headers=AUTH))
        assert again["faces"] == found["faces"] and again["detection"] == "memory"
        assert client.get("/images/v1/a/b/faces").status_code == 401
        missing = client.get("/images/v1/nothing/faces", headers=AUTH)
        assert missing.status_code == 404 and missing.json()["success"] is False
        schema = client.get("/openapi.json").json()
        assert "/images/v1/{image_id}/faces" in schema["paths"]
