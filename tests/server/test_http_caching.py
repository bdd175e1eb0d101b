"""Caching over HTTP: ETag, 304, HEAD and Cache-Control."""

from __future__ import annotations

import httpx

from conftest import RunningServer
from http_delivery import image_size, module_fixtures
from imaging import gradient, png

server, client = module_fixtures()


# --- caching: ETag, 304, HEAD, Cache-Control ------------------------------------------------


def test_etag_is_strong_and_stable(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=90/rocket.jpg"
    first, second = client.get(url), client.get(url)
    etag = first.headers["etag"]
    assert etag == second.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert client.get("/cdn-cgi/image/width=91/rocket.jpg").headers["etag"] != etag
    assert client.get("/cdn-cgi/image/width=90/cat.png").headers["etag"] != etag


def test_etag_changes_when_the_original_changes(server: RunningServer) -> None:
    path = server.origin / "changing.png"
    path.write_bytes(png(gradient(50, 50)))
    with server.client() as client:
        before = client.get("/cdn-cgi/image/width=20/changing.png").headers["etag"]
        path.write_bytes(png(gradient(60, 50)))
        after = client.get("/cdn-cgi/image/width=20/changing.png")
        assert after.headers["etag"] != before
        assert image_size(after) == (20, 17)


def test_if_none_match_gives_304_without_a_body(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=90,format=webp/rocket.jpg"
    etag = client.get(url).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "max-age" in response.headers["cache-control"]
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_gives_the_headers_without_a_body(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=90,format=webp/rocket.jpg"
    get = client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == "image/webp"
    assert head.headers["cache-control"] == get.headers["cache-control"]
    error = client.head("/cdn-cgi/image/bogus=1/rocket.jpg")
    assert error.status_code == 400 and error.content == b""
    assert error.headers["cf-resized"] == "err=9401"


def test_cache_control_is_at_least_an_hour(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=90/rocket.jpg")
    directives = [part.strip() for part in response.headers["cache-control"].split(",")]
    max_age = next(int(part.split("=")[1]) for part in directives if part.startswith("max-age="))
    assert max_age >= 3600
    assert "public" in directives


def test_cache_control_is_configurable(start_server) -> None:
    server = start_server(cache_control="public, max-age=86400, immutable")
    (server.origin / "a.png").write_bytes(png(gradient(40, 30)))
    with server.client() as client:
        response = client.get("/cdn-cgi/image/width=20/a.png")
    assert response.headers["cache-control"] == "public, max-age=86400, immutable"


def test_errors_are_not_cached(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=0/rocket.jpg")
    assert response.status_code == 400
    assert "no-store" in response.headers["cache-control"]
