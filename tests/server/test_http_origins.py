"""Where originals come from, over HTTP: remote origins, and the origin folder's hidden files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conftest import RunningServer, read_photo
from http_delivery import assert_error, image_size, module_fixtures, raw_get

server, client = module_fixtures()


# --- remote origins -------------------------------------------------------------------------


class _OriginHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})  # type: ignore[attr-defined]
        if self.path.startswith("/photo.jpg"):
            body = read_photo("rocket")
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"rocket-1"')
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/photo.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)

    def log_message(self, *args: Any) -> None:
        pass


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OriginHandler)
        self.seen: list[dict[str, str]] = []


@pytest.fixture
def origin_server(origin: OriginServer) -> str:
    return f"http://127.0.0.1:{origin.server_address[1]}"


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    httpd = OriginServer()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_remote_fetch_from_an_allowed_origin(start_server, origin_server: str) -> None:
    server = start_server(allowed_origins=(origin_server,), allow_private_networks=True)
    with server.client() as client:
        response = client.get(f"/cdn-cgi/image/width=100,format=webp/{origin_server}/photo.jpg")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/webp"
        assert image_size(response) == (100, 67)
        assert response.headers["etag"].startswith('"')
        # proxies may merge the slashes after the scheme; a query string is part of the URL
        merged = origin_server.replace("http://", "http:/")
        again = client.get(f"/cdn-cgi/image/width=100,format=webp/{merged}/photo.jpg?v=1")
        assert again.status_code == 200
        described = client.get(f"/cdn-cgi/image/format=json/{origin_server}/photo.jpg").json()
        assert described["original"]["file_size"] == len(read_photo("rocket"))
        redirected = client.get(f"/cdn-cgi/image/width=50/{origin_server}/moved")
        assert redirected.status_code == 200
        assert image_size(redirected)[0] == 50
        missing = client.get(f"/cdn-cgi/image/width=50/{origin_server}/nothing.jpg")
        assert missing.status_code == 404
        assert missing.headers["cf-resized"] == "err=9404"


def test_remote_fetch_carries_our_via_marker(
    start_server, origin: OriginServer, origin_server: str
) -> None:
    server = start_server(allowed_origins=(origin_server,), allow_private_networks=True)
    with server.client() as client:
        assert client.get(f"/cdn-cgi/image/width=10/{origin_server}/photo.jpg").status_code == 200
        # the origin saw Focal's Via marker: were the origin Focal itself, it would refuse
        assert origin.seen and origin.seen[-1]["via"] == "1.1 focal"
        looped = client.get(
            f"/cdn-cgi/image/width=10/{origin_server}/photo.jpg",
            headers={"Via": origin.seen[-1]["via"]},
        )
        assert_error(looped, 508, 9403)


@pytest.mark.parametrize(
    "settings",
    [
        {},  # remote fetching off
        {"allowed_origins": ("https://images.example.com",), "allow_private_networks": True},
        {"allowed_origins": ("ORIGIN",)},  # allowed, but loopback addresses are not
        {"allowed_origins": ("http://127.0.0.1:1",), "allow_private_networks": True},  # port
    ],
)
def test_loopback_origin_not_allowed_is_refused(
    start_server, origin_server: str, settings: dict[str, Any]
) -> None:
    if settings.get("allowed_origins") == ("ORIGIN",):
        settings = {"allowed_origins": (origin_server,)}
    server = start_server(**settings)
    with server.client() as client:
        response = client.get(f"/cdn-cgi/image/width=100/{origin_server}/photo.jpg")
    assert_error(response, 403, 9401)


def test_remote_fetch_refuses_other_schemes(client: httpx.Client) -> None:
    for source in ("file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://x/"):
        response = client.get(f"/cdn-cgi/image/width=100/{source}")
        assert 400 <= response.status_code < 500
        assert response.status_code != 200


# --- hidden files of the origin folder ------------------------------------------------------


@pytest.fixture
def hidden_files(server: RunningServer) -> Iterator[None]:
    origin = server.origin
    (origin / ".env").write_text("SECRET_KEY=do-not-serve\n")
    (origin / ".git").mkdir(exist_ok=True)
    (origin / ".git" / "photo.jpg").write_bytes(read_photo("rocket"))
    (origin / "innocent.jpg").symlink_to(origin / ".git" / "photo.jpg")
    yield
    (origin / "innocent.jpg").unlink()


@pytest.mark.parametrize(
    "path",
    [
        "/originals/.env",
        "/originals/people/../.env",
        "/originals/.git/photo.jpg",
        "/originals/innocent.jpg",
        "/cdn-cgi/image/width=50/.git/photo.jpg",
        "/cdn-cgi/image/format=json/.git/photo.jpg",
        "/cdn-cgi/image/width=50/innocent.jpg",
        "/cdn-cgi/image/width=50,onerror=redirect/.git/photo.jpg",
    ],
)
def test_hidden_files_are_never_served_nor_transformed(
    server: RunningServer, hidden_files: None, path: str
) -> None:
    status, headers, body = raw_get(server, path)
    assert status in (403, 404), (status, body[:100])
    assert b"SECRET_KEY" not in body and not body.startswith(b"\xff\xd8")


def test_hidden_files_are_refused_with_the_reason(client: httpx.Client, hidden_files: None) -> None:
    response = client.get("/originals/.env")
    assert_error(response, 404, 9404)
    assert "hidden files" in response.text


def test_the_originals_route_can_be_switched_off(start_server) -> None:
    server = start_server(serve_originals=False)
    (server.origin / "rocket.jpg").write_bytes(read_photo("rocket"))
    with server.client() as client:
        assert client.get("/originals/rocket.jpg").status_code == 404
        assert client.get("/cdn-cgi/image/width=50/rocket.jpg").status_code == 200
