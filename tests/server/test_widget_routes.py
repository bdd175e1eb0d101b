"""The widget's files and the upload limits, over HTTP: types, caching, CORS."""

from __future__ import annotations

from collections.abc import Callable

from conftest import RunningServer
from focal.pipeline.source import ACCEPTED_FORMATS
from focal.server.classic_script import classic_script
from focal.server.widget_routes import CLASSIC_PATH, WIDGET_SOURCE


def test_the_classic_build_is_served_cacheable_to_any_origin(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    with server.client() as client:
        response = client.get("/widget/v1/focal-upload.js", headers={"Origin": "http://app"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=604800"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.text == classic_script(WIDGET_SOURCE.read_text(), CLASSIC_PATH)
        assert 'customElements.define("focal-upload"' in response.text
        etag = response.headers["etag"]
        again = client.get("/widget/v1/focal-upload.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        head = client.head("/widget/v1/focal-upload.js")
        assert head.status_code == 200 and head.headers["etag"] == etag


def test_the_module_is_served_as_it_is_written(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    with server.client() as client:
        module = client.get("/widget/v1/focal-upload.mjs")
        classic = client.get("/widget/v1/focal-upload.js")
    assert module.status_code == 200
    assert module.headers["content-type"] == "text/javascript; charset=utf-8"
    assert module.text == WIDGET_SOURCE.read_text()
    assert "export { FocalUploadElement, VERSION };" in module.text
    assert module.headers["etag"] != classic.headers["etag"]


def test_the_limits_are_the_hosted_upload_limits(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(hosted_max_bytes=123_456, max_pixels=4_000_000, max_side=5000)
    with server.client() as client:
        response = client.get("/widget/v1/limits")  # no token: the limits are public
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "maxBytes": 123_456,
        "maxPixels": 4_000_000,
        "maxSide": 5000,
        "types": list(ACCEPTED_FORMATS),
    }
    assert "image/jpeg" in ACCEPTED_FORMATS and "image/heic" in ACCEPTED_FORMATS
