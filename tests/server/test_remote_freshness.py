"""Remote originals are not fetched again while their origin says they are fresh."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import RunningServer, read_photo

PHOTO = read_photo("rocket")
# Path -> the Cache-Control the origin sends with it (None: none at all).
POLICIES = {"/fresh.jpg": "public, max-age=3600", "/ask.jpg": "no-cache", "/plain.jpg": None}


class _Handler(BaseHTTPRequestHandler):
    server: Origin

    def do_GET(self) -> None:
        if self.path not in POLICIES:
            self.send_error(404)
            return
        self.server.fetches[self.path] += 1
        etag = f'"{self.server.version}"'
        policy = POLICIES[self.path]
        if self.headers.get("If-None-Match") == etag:
            self.server.not_modified[self.path] += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            if policy is not None:
                self.send_header("Cache-Control", policy)
            self.end_headers()
            return
        body = self.server.photo
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        if policy is not None:
            self.send_header("Cache-Control", policy)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fetches: Counter[str] = Counter()  # every GET
        self.not_modified: Counter[str] = Counter()  # of which answered 304
        self.photo, self.version = PHOTO, "rocket-1"

    def replace(self, photo: bytes, version: str) -> None:
        self.photo, self.version = photo, version

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def origin() -> Iterator[Origin]:
    httpd = Origin()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serving(start_server: Callable[..., RunningServer], origin: Origin, **settings: Any) -> Any:
    return start_server(
        allowed_origins=(origin.url,),
        allow_private_networks=True,
        detector_warm_start=False,
        **settings,
    )


def test_a_fresh_original_is_fetched_only_to_be_transformed(
    start_server: Callable[..., RunningServer], origin: Origin
) -> None:
    server = serving(start_server, origin)
    delivery = server.parts.delivery
    with server.client() as client:
        first = client.get(f"/cdn-cgi/image/width=100/{origin.url}/fresh.jpg")
        again = client.get(f"/cdn-cgi/image/width=100/{origin.url}/fresh.jpg")
        unchanged = client.get(
            f"/cdn-cgi/image/width=100/{origin.url}/fresh.jpg",
            headers={"If-None-Match": first.headers["etag"]},
        )
        assert origin.fetches["/fresh.jpg"] == 1  # the hit and the 304 fetched nothing
        other = client.get(f"/cdn-cgi/image/width=120/{origin.url}/fresh.jpg")
    assert first.status_code == again.status_code == other.status_code == 200
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert unchanged.status_code == 304
    assert origin.fetches["/fresh.jpg"] == 2  # a new variant needs the bytes
    assert delivery.transformations == 2


def test_an_origin_that_says_no_cache_is_asked_every_time_without_a_body(
    start_server: Callable[..., RunningServer], origin: Origin
) -> None:
    server = serving(start_server, origin)
    url = f"/cdn-cgi/image/width=100/{origin.url}/ask.jpg"
    with server.client() as client:
        first = client.get(url)
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200 and response.content == first.content
        assert origin.fetches["/ask.jpg"] == 3
        assert origin.not_modified["/ask.jpg"] == 2  # asked with If-None-Match: no body
        assert server.parts.delivery.transformations == 1  # unchanged: cache hits

        origin.replace(read_photo("chelsea"), "chelsea-1")  # the origin's image changes
        changed = client.get(url)
    assert changed.status_code == 200
    assert changed.content != first.content and changed.headers["etag"] != first.headers["etag"]
    assert origin.not_modified["/ask.jpg"] == 2
    assert server.parts.delivery.transformations == 2


@pytest.mark.parametrize(("seconds", "fetches"), [(300.0, 1), (0.0, 3)])
def test_without_cache_control_the_configured_freshness_applies(
    start_server: Callable[..., RunningServer], origin: Origin, seconds: float, fetches: int
) -> None:
    server = serving(start_server, origin, remote_freshness_seconds=seconds)
    with server.client() as client:
        for _ in range(3):
            response = client.get(f"/cdn-cgi/image/width=100/{origin.url}/plain.jpg")
            assert response.status_code == 200
    assert origin.fetches["/plain.jpg"] == fetches
