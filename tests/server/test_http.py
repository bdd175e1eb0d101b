"""Focal over HTTP: a real uvicorn server on 127.0.0.1, a real client, real images."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conftest import RunningServer, read_photo, running_server, server_settings
from focal.service import DeliveryService
from imaging import animated, coloured_frames, decode, gradient, png

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
MAGIC = {
    "image/jpeg": lambda data: data.startswith(b"\xff\xd8\xff"),
    "image/png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
    "image/gif": lambda data: data[:4] == b"GIF8",
    "image/avif": lambda data: data[4:12] in (b"ftypavif", b"ftypavis"),
}


def half_transparent_png() -> bytes:
    import pyvips

    image = gradient(200, 100)
    alpha = (pyvips.Image.xyz(200, 100)[0] >= 100).ifthenelse(255, 0).cast("uchar")
    return png(image.bandjoin(alpha).copy(interpretation="srgb"))


def header_only_png(width: int, height: int) -> bytes:
    """A PNG declaring width×height with almost no pixel data (see test_pipeline)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def fill_origin(origin: Path) -> None:
    origin.mkdir(parents=True, exist_ok=True)
    for name, file in (
        ("chelsea", "cat.png"),
        ("multi_face", "people/group.jpg"),
        ("rocket", "rocket.jpg"),
        ("nature-1", "nature.jpg"),
        ("grace_hopper", "grace hopper.jpg"),
    ):
        target = origin / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_photo(name))
    (origin / "alpha.png").write_bytes(half_transparent_png())
    (origin / "anim.gif").write_bytes(animated(coloured_frames(60, 40, 3)))
    (origin / "notes.txt").write_text("this is not an image\n")
    (origin / "fake.jpg").write_text("neither is this, whatever its name says\n")
    (origin / "bomb.png").write_bytes(header_only_png(20000, 20000))
    (origin / "tall.png").write_bytes(png(gradient(2, 1000)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("focal-http")
    settings = server_settings(data_dir)
    fill_origin(settings.origin_path)
    (data_dir / "secret.jpg").write_bytes(read_photo("rocket"))  # beside, not in, the origin
    with running_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def raw_get(server: RunningServer, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    """A request with the path sent byte for byte (httpx would resolve '..' itself)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def image_size(response: httpx.Response) -> tuple[int, int]:
    image = decode(response.content)
    return image.width, image.height


def assert_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cf-resized"] == f"err={code}"
    assert response.text.strip()


# --- content types and options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "media_type"),
    [
        ("width=100", "image/png"),  # no format: the original's
        ("width=100,format=jpeg", "image/jpeg"),
        ("width=100,format=baseline-jpeg", "image/jpeg"),
        ("width=100,format=png", "image/png"),
        ("width=100,format=webp", "image/webp"),
        ("width=100,format=avif", "image/avif"),
        ("width=100,format=gif", "image/gif"),
        ("w=100,f=webp", "image/webp"),
    ],
)
def test_content_type_is_the_real_format(
    client: httpx.Client, options: str, media_type: str
) -> None:
    response = client.get(f"/cdn-cgi/image/{options}/cat.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert MAGIC[media_type](response.content)
    assert image_size(response) == (100, 67)
    assert int(response.headers["content-length"]) == len(response.content)


def test_aliases_give_the_same_image_and_etag(client: httpx.Client) -> None:
    long = client.get(
        "/cdn-cgi/image/width=120,height=80,fit=cover,gravity=left,quality=70,"
        "format=webp/people/group.jpg"
    )
    short = client.get("/cdn-cgi/image/g=left,q=70,f=webp,h=80,w=120,fit=cover/people/group.jpg")
    assert long.status_code == short.status_code == 200
    assert long.content == short.content
    assert long.headers["etag"] == short.headers["etag"]
    assert image_size(long) == (120, 80)


def test_sources_with_spaces_and_folders(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=64/grace%20hopper.jpg")
    assert response.status_code == 200
    assert image_size(response)[0] == 64
    assert client.get("/cdn-cgi/image/width=64/people/group.jpg").status_code == 200


def test_originals_route_serves_the_file_as_is(client: httpx.Client) -> None:
    response = client.get("/originals/cat.png")
    assert response.status_code == 200
    assert response.content == read_photo("chelsea")
    assert response.headers["content-type"] == "image/png"


# --- format negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "opaque", "transparent"),
    [
        (CHROME, "image/avif", "image/avif"),
        ("image/avif,image/webp,*/*", "image/avif", "image/avif"),
        (SAFARI, "image/webp", "image/webp"),
        ("*/*", "image/jpeg", "image/png"),
        (None, "image/jpeg", "image/png"),
    ],
)
def test_format_auto_follows_accept(
    client: httpx.Client, accept: str | None, opaque: str, transparent: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    for source, expected in (("rocket.jpg", opaque), ("alpha.png", transparent)):
        response = client.get(f"/cdn-cgi/image/width=80,format=auto/{source}", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == expected
        assert MAGIC[expected](response.content)
        assert "Accept" in [part.strip() for part in response.headers["vary"].split(",")]


def test_vary_accept_only_when_negotiated(client: httpx.Client) -> None:
    for options in ("width=80", "width=80,format=webp", "width=80,format=jpeg"):
        response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg", headers={"Accept": CHROME})
        assert response.status_code == 200
        assert "accept" not in response.headers.get("vary", "").lower()


def test_negotiated_variants_have_different_etags(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=80,format=auto/rocket.jpg"
    avif = client.get(url, headers={"Accept": CHROME})
    jpeg = client.get(url, headers={"Accept": "*/*"})
    assert avif.headers["etag"] != jpeg.headers["etag"]
    # a 304 is only for the variant the client holds
    assert (
        client.get(
            url, headers={"Accept": "*/*", "If-None-Match": avif.headers["etag"]}
        ).status_code
        == 200
    )


# --- format=json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        "width=300",
        "width=200,height=200,fit=cover",
        "height=100,fit=contain,dpr=2",
        "w=1920,h=1120,fit=aspect-crop",
        "rotate=90,w=150",
        "trim=10;20;30;40,w=100,h=200,fit=pad",
    ],
)
def test_json_shape_and_sizes_match_the_real_output(client: httpx.Client, options: str) -> None:
    described = client.get(f"/cdn-cgi/image/{options},format=json/people/group.jpg")
    assert described.status_code == 200
    assert described.headers["content-type"] == "application/json"
    body = described.json()
    assert set(body) == {"width", "height", "original"}
    assert body["original"] == {
        "file_size": len(read_photo("multi_face")),
        "format": "image/jpeg",
        "width": 1000,
        "height": 667,
    }
    real = client.get(f"/cdn-cgi/image/{options}/people/group.jpg")
    assert (body["width"], body["height"]) == image_size(real)


def test_json_of_a_png_and_an_animation(client: httpx.Client) -> None:
    body = client.get("/cdn-cgi/image/width=100,format=json/cat.png").json()
    assert body["original"]["format"] == "image/png"
    assert (body["width"], body["height"]) == (100, 67)
    animation = client.get("/cdn-cgi/image/width=30,format=json/anim.gif").json()
    assert (animation["width"], animation["height"]) == (30, 20)
    assert animation["original"]["format"] == "image/gif"
    assert (animation["original"]["width"], animation["original"]["height"]) == (60, 40)


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


# --- errors ---------------------------------------------------------------------------------


def test_unknown_option(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=100,sepia=1/rocket.jpg")
    assert_error(response, 400, 9401)
    assert "sepia" in response.text
    for known in ("width", "height", "fit", "gravity", "quality", "format"):
        assert known in response.text


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (
            "fit=stretch,width=10",
            [
                "fit",
                "stretch",
                "scale-down",
                "contain",
                "cover",
                "crop",
                "aspect-crop",
                "pad",
                "squeeze",
                "scale-up",
            ],
        ),
        ("width=abc", ["width", "1 to 12000"]),
        ("quality=200", ["quality", "1 to 100", "high", "low"]),
        ("format=bmp", ["format", "bmp", "avif", "webp", "jpeg", "json"]),
        ("gravity=middle,w=10", ["gravity", "middle", "left", "XxY"]),
        ("rotate=45", ["rotate", "90, 180 or 270"]),
        ("background=notacolour", ["background", "CSS colour"]),
        ("trim=1;2", ["trim", "top;right;bottom;left"]),
        ("flip=x", ["flip", "h, v, hv"]),
    ],
)
def test_bad_values_name_the_option_and_the_allowed_values(
    client: httpx.Client, options: str, words: list[str]
) -> None:
    response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg")
    assert_error(response, 400, 9401)
    for word in words:
        assert word in response.text


@pytest.mark.parametrize("options", ["width", "=5", "width=", "w=1,w=2", ",,,", "width=1;height=2"])
def test_malformed_options(client: httpx.Client, options: str) -> None:
    assert_error(client.get(f"/cdn-cgi/image/{options}/rocket.jpg"), 400, 9401)


def test_not_an_image(client: httpx.Client) -> None:
    for source in ("notes.txt", "fake.jpg"):
        response = client.get(f"/cdn-cgi/image/width=100/{source}")
        assert_error(response, 415, 9412)


def test_missing_file(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=100/nothing-here.jpg")
    assert_error(response, 404, 9404)
    assert "nothing-here.jpg" in response.text
    assert_error(client.get("/cdn-cgi/image/width=100/people"), 404, 9404)  # a folder


@pytest.mark.parametrize(
    "path",
    [
        "/cdn-cgi/image/width=100/../secret.jpg",
        "/cdn-cgi/image/width=100/people/../../secret.jpg",
        "/cdn-cgi/image/width=100/%2e%2e/secret.jpg",
        "/cdn-cgi/image/width=100/%2E%2E%2Fsecret.jpg",
        "/cdn-cgi/image/width=100/..%2fsecret.jpg",
        "/cdn-cgi/image/width=100/people/..%5c..%5csecret.jpg",
        "/cdn-cgi/image/width=100/.%2e/secret.jpg",
        "/originals/../secret.jpg",
        "/originals/%2e%2e/secret.jpg",
    ],
)
def test_path_traversal_is_refused(server: RunningServer, path: str) -> None:
    status, headers, body = raw_get(server, path)
    assert status == 403, (status, body)
    assert headers["cf-resized"] == "err=9406"
    assert read_photo("rocket")[:64] not in body


def test_absolute_paths_stay_inside_the_origin(server: RunningServer) -> None:
    status, _, body = raw_get(
        server, f"/cdn-cgi/image/width=100/{server.settings.data_dir}/secret.jpg"
    )
    assert status == 404
    status, _, _ = raw_get(server, "/cdn-cgi/image/width=100//etc/passwd")
    assert status == 404


def test_oversize_original_is_refused_before_decoding(start_server) -> None:
    server = start_server(max_source_bytes=10_000)
    # not an image: had it been read and decoded, the answer would be 415, not 413
    (server.origin / "big.jpg").write_bytes(b"\0" * 20_000)
    (server.origin / "small.png").write_bytes(png(gradient(20, 20)))
    with server.client() as client:
        response = client.get("/cdn-cgi/image/width=100/big.jpg")
        assert_error(response, 413, 9402)
        assert "10,000" in response.text
        assert client.get("/cdn-cgi/image/width=10/small.png").status_code == 200


def test_too_many_pixels(start_server) -> None:
    server = start_server(max_pixels=100_000)
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))  # 451×300 = 135,300 px
    (server.origin / "ok.png").write_bytes(png(gradient(300, 300)))
    with server.client() as client:
        response = client.get("/cdn-cgi/image/width=100/cat.png")
        assert_error(response, 403, 9413)
        assert "100,000" in response.text
        assert client.get("/cdn-cgi/image/width=100/ok.png").status_code == 200


def test_decompression_bomb_is_refused_from_its_header(client: httpx.Client) -> None:
    for options in ("width=100", "format=json", "width=10,onerror=redirect"):
        response = client.get(f"/cdn-cgi/image/{options}/bomb.png")
        if "onerror" in options:
            assert response.status_code == 302
            assert response.headers["cf-resized"] == "err=9413"
        else:
            assert_error(response, 403, 9413)
            assert "20000" in response.text


def test_result_too_large(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=12000,fit=scale-up/tall.png")
    assert_error(response, 403, 9413)


def test_via_loop_is_refused(client: httpx.Client) -> None:
    for via in ("1.1 focal", "1.0 cache, HTTP/1.1 focal (Focal)", "1.1 FOCAL"):
        response = client.get("/cdn-cgi/image/width=100/rocket.jpg", headers={"Via": via})
        assert_error(response, 508, 9403)
    other = client.get("/cdn-cgi/image/width=100/rocket.jpg", headers={"Via": "1.1 varnish"})
    assert other.status_code == 200


# --- onerror=redirect -----------------------------------------------------------------------


def test_onerror_redirect_sends_the_original(client: httpx.Client) -> None:
    for options in (
        "width=12000,fit=scale-up,onerror=redirect",  # result too large
        "trim=0;0.6;0;0.6,onerror=redirect",
    ):  # trims away everything
        source = "tall.png" if "scale-up" in options else "rocket.jpg"
        response = client.get(f"/cdn-cgi/image/{options}/{source}")
        assert response.status_code == 302, response.text
        assert response.headers["location"] == f"/originals/{source}"
        assert response.headers["cf-resized"].startswith("err=")
        original = client.get(response.headers["location"])
        assert original.status_code == 200
        assert original.content == (client.get(f"/originals/{source}").content)
    # without onerror the same failure is an error
    assert client.get("/cdn-cgi/image/trim=0;0.6;0;0.6/rocket.jpg").status_code == 400


def test_onerror_redirect_does_not_hide_a_working_transformation(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=50,onerror=redirect/rocket.jpg")
    assert response.status_code == 200
    assert image_size(response)[0] == 50


# --- client hints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "width"),
    [
        ({"Sec-CH-Width": "300"}, 320),
        ({"Sec-CH-Width": "900"}, 960),
        ({"Sec-CH-Width": "1500"}, 1500),
        ({"Width": "700"}, 768),
        ({}, 1200),
        ({"Sec-CH-UA-Mobile": "?1"}, 768),
        ({"User-Agent": "Mozilla/5.0 (iPhone) Mobile/15E148"}, 768),
    ],
)
def test_width_auto(client: httpx.Client, headers: dict[str, str], width: int) -> None:
    body = client.get("/cdn-cgi/image/width=auto,format=json/nature.jpg", headers=headers).json()
    assert body["width"] == width
    response = client.get("/cdn-cgi/image/width=auto,format=webp/nature.jpg", headers=headers)
    assert response.status_code == 200
    assert image_size(response)[0] == width
    vary = [part.strip().lower() for part in response.headers["vary"].split(",")]
    assert "sec-ch-width" in vary


def test_width_auto_variants_have_their_own_etags(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=auto,format=json/nature.jpg"
    narrow = client.get(url, headers={"Sec-CH-Width": "300"}).headers["etag"]
    wide = client.get(url, headers={"Sec-CH-Width": "1500"}).headers["etag"]
    assert narrow != wide


def test_slow_connection_quality_with_save_data(client: httpx.Client) -> None:
    options = "width=400,quality=90,slow-connection-quality=20,format=jpeg"
    url = f"/cdn-cgi/image/{options}/people/group.jpg"
    normal = client.get(url)
    slow = client.get(url, headers={"Save-Data": "on"})
    assert normal.status_code == slow.status_code == 200
    assert len(slow.content) < 0.7 * len(normal.content)
    assert image_size(slow) == image_size(normal) == (400, 267)
    assert slow.headers["etag"] != normal.headers["etag"]
    assert "save-data" in slow.headers["vary"].lower()
    for hint in ({"ECT": "3g"}, {"RTT": "300"}, {"Downlink": "1.5"}):
        assert client.get(url, headers=hint).content == slow.content
    # without scq, Save-Data changes nothing
    plain = "/cdn-cgi/image/width=400,quality=90,format=jpeg/people/group.jpg"
    assert client.get(plain, headers={"Save-Data": "on"}).content == client.get(plain).content


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


# --- bounded concurrency --------------------------------------------------------------------


def hold_the_workers(server: RunningServer, count: int) -> tuple[threading.Event, list[Future]]:
    """Occupy `count` image-job slots with jobs that wait for the returned event."""
    delivery: DeliveryService = server.app.state.delivery
    gate = threading.Event()

    async def hold() -> bool:
        async with delivery.jobs.admit():
            return await delivery.jobs.run(gate.wait)

    held = [asyncio.run_coroutine_threadsafe(hold(), server.loop) for _ in range(count)]
    while delivery.jobs.admitted < count:  # waits for admission; asserts nothing about time
        time.sleep(0.005)
    return gate, held


def test_busy_server_answers_503_with_retry_after(start_server) -> None:
    server = start_server(concurrency=1, queue_size=0)
    (server.origin / "a.png").write_bytes(png(gradient(80, 60)))
    gate, held = hold_the_workers(server, 1)
    try:
        with server.client() as client:
            response = client.get("/cdn-cgi/image/width=20/a.png")
            assert_error(response, 503, 9522)
            assert int(response.headers["retry-after"]) >= 1
            # onerror=redirect does not turn "busy" into a redirect
            busy = client.get("/cdn-cgi/image/width=20,onerror=redirect/a.png")
            assert busy.status_code == 503
    finally:
        gate.set()
    assert all(future.result(timeout=30) for future in held)
    with server.client() as client:
        assert client.get("/cdn-cgi/image/width=20/a.png").status_code == 200


def test_requests_wait_in_the_queue_and_beyond_it_are_refused(start_server) -> None:
    server = start_server(concurrency=1, queue_size=1)
    (server.origin / "a.png").write_bytes(png(gradient(80, 60)))
    delivery: DeliveryService = server.app.state.delivery
    gate, held = hold_the_workers(server, 1)
    waiting: list[httpx.Response] = []
    try:
        queued = threading.Thread(
            target=lambda: waiting.append(
                httpx.get(server.url + "/cdn-cgi/image/width=20/a.png", timeout=60)
            )
        )
        queued.start()
        while delivery.jobs.admitted < 2:  # the second request is now waiting in the queue
            time.sleep(0.005)
        with server.client() as client:
            refused = client.get("/cdn-cgi/image/width=30/a.png")
        assert_error(refused, 503, 9522)
        assert "retry-after" in refused.headers
    finally:
        gate.set()
    queued.join(60)
    assert held[0].result(timeout=30)
    assert [response.status_code for response in waiting] == [200]
    assert image_size(waiting[0]) == (20, 15)


# --- nothing gives a 500 --------------------------------------------------------------------

NASTY_OPTIONS = [
    "",
    " ",
    ",",
    "=",
    "==",
    "a=b=c",
    "width=1e400",
    "width=-0",
    "width=0x10",
    "width=١٠٠",
    "w=auto,h=auto",
    "dpr=1e-300,w=1",
    "dpr=3,w=12000",
    "w=12000,h=12000,fit=pad",
    "background=rgba(",
    "background=rgba(1,2,3,4,5)",
    "background=%23",
    "background=%23zzz",
    "gravity=0.5x",
    "gravity=xx",
    "gravity=1e999x0",
    "trim=;;;",
    "trim=1;1;1;1;1",
    "trim=99999;0;0;0",
    "trim.border.color=",
    "trim.border=maybe",
    "trim.width=0.0000001",
    "blur=250,sharpen=10,w=3",
    "q=%00",
    "%00=1",
    "f=json,anim=false,w=1",
    "width=1" * 600,
    "onerror=redirect,fit=bogus",
    "rotate=9999999999999999999999",
    "zoom=nan,g=face",
    "w=1,h=12000,fit=cover",
    "w=12000,h=1,fit=crop",
    "fit=cover,g=auto,w=1,h=1",
    "%E2%82%AC=1",
    "width=%F0%9F%98%80",
    "trim=border,trim.border.keep=100000",
    "w=10,background=transparent,fit=pad,h=10,f=jpeg",
    "f=avif,anim=true,w=5",
]
NASTY_SOURCES = [
    "rocket.jpg",
    "anim.gif",
    "alpha.png",
    "bomb.png",
    "notes.txt",
    "",
    "/",
    "//",
    ".",
    "..",
    "%00",
    "rocket.jpg%00.png",
    "a" * 300,
    "http:",
    "http://",
    "https://[::1]/x.jpg",
    "http://0.0.0.0/x",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost:1/x",
    "http://%00/",
    "http://exa mple.com/x",
    "https://example.com:99999/x",
    "ftp://x",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "people/",
    "tall.png",
]


def path_of(options: str, source: str) -> str:
    """The request path, with what HTTP forbids in a path (spaces, controls) %-encoded and
    everything else, including %-escapes already there, sent as written."""
    return quote(f"/cdn-cgi/image/{options}/{source}", safe="/%=,;:@()+~!*'$&")


def test_nasty_requests_never_get_a_500(server: RunningServer) -> None:
    statuses: set[int] = set()
    for options in NASTY_OPTIONS:
        for source in ("rocket.jpg", "anim.gif", "alpha.png"):
            status, headers, body = raw_get(server, path_of(options, source))
            assert status < 500, (options, source, status, body[:200])
            statuses.add(status)
    for source in NASTY_SOURCES:
        for options in ("width=50", "format=json", "width=50,onerror=redirect"):
            status, headers, body = raw_get(server, path_of(options, source))
            assert status < 500, (options, source, status, body[:200])
            if status >= 400 and "cf-resized" in headers:
                assert body.strip()
            statuses.add(status)
    assert 200 in statuses and 400 in statuses and 403 in statuses


def test_hashes_do_not_leak_the_path(client: httpx.Client) -> None:
    # the ETag is a hash, never the file's path or inode in clear
    etag = client.get("/cdn-cgi/image/width=30/rocket.jpg").headers["etag"]
    assert "rocket" not in etag and "/" not in etag
    assert len(etag.strip('"')) >= 16
    int(etag.strip('"'), 16)  # hexadecimal digits of a hash


def test_json_is_valid_json_even_for_odd_options(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/format=json,trim=border,rotate=270,dpr=2,h=40/cat.png")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert isinstance(body["width"], int) and isinstance(body["height"], int)


NASTY_HEADERS = [
    {"Sec-CH-Width": "inf"},
    {"Sec-CH-Width": "1e400"},
    {"Sec-CH-Width": "-1"},
    {"Sec-CH-Width": "nan"},
    {"Width": "99999999999999999999"},
    {"Sec-CH-Viewport-Width": "-inf"},
    {"Sec-CH-UA-Mobile": "?1", "Sec-CH-Width": "abc"},
    {"Save-Data": "on", "RTT": "inf", "Downlink": "-inf", "ECT": "5g"},
    {"Accept": "image/avif;q=abc, image/webp;q=, */*;;;"},
    {"Accept": "," * 500},
    {"If-None-Match": '"", W/, *, ,,'},
    {"Via": "(((, 1.1"},
    {"Via": "focal"},
]


@pytest.mark.parametrize("headers", NASTY_HEADERS)
def test_nasty_client_hints_never_get_a_500(client: httpx.Client, headers: dict[str, str]) -> None:
    for options in ("width=auto,format=auto,scq=20", "width=auto,format=json", "width=40"):
        response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg", headers=headers)
        assert response.status_code in (200, 304), (options, response.text)
        if options.endswith("json") and response.status_code == 200:
            # no hint here is a usable width below the original's 640 px
            assert response.json()["width"] == 640


# --- header values made from text -----------------------------------------------------------


def undecodable_gif() -> bytes:
    """A GIF whose header reads (format=json needs no more) but whose pixels do not: libvips'
    error text for it spans lines."""
    data = bytearray(animated(coloured_frames(60, 40, 3)))
    data[60:-1] = b"\xff" * (len(data) - 61)
    return bytes(data)


def test_face_detection_error_text_never_breaks_the_response(start_server) -> None:
    server = start_server()
    (server.origin / "broken.gif").write_bytes(undecodable_gif())
    status, headers, body = raw_get(server, "/cdn-cgi/image/format=json,gravity=face/broken.gif")
    assert status == 200, body
    gravity = headers["focal-gravity"]
    assert gravity.startswith('center; reason="face detection unavailable: ')
    assert gravity.isascii() and gravity.isprintable() and len(gravity) < 300
    assert json.loads(body)["width"] == 60


def test_redirect_location_is_a_valid_url_whatever_the_file_name(
    server: RunningServer, client: httpx.Client
) -> None:
    name = "😀 cat.jpg"
    (server.origin / name).write_bytes(read_photo("rocket"))
    response = client.get(f"/cdn-cgi/image/trim=0;0.6;0;0.6,onerror=redirect/{quote(name)}")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location == "/originals/" + quote(name)
    assert client.get(location).content == read_photo("rocket")


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


# --- URLs answered directly, never redirected -----------------------------------------------


def test_a_trailing_slash_after_a_local_source_is_the_same_file(client: httpx.Client) -> None:
    without = client.get("/cdn-cgi/image/width=50/rocket.jpg")
    response = client.get("/cdn-cgi/image/width=50/rocket.jpg/", follow_redirects=False)
    assert response.status_code == 200
    assert response.content == without.content
    assert response.headers["etag"] == without.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/cdn-cgi/image/rocket.jpg",
        "/cdn-cgi/image/width=50",
        "/cdn-cgi/image/width=50/",
        "/cdn-cgi/image/",
        "/cdn-cgi/image",
    ],
)
def test_an_image_url_without_options_or_source_is_a_clear_400(
    client: httpx.Client, path: str
) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code == 400, (method, path)
        assert response.headers["cf-resized"] == "err=9401"
    assert "/cdn-cgi/image/<options>/<source>" in client.get(path).text


@pytest.mark.parametrize(
    "path", ["/images/some-id/public/", "/cdn-cgi/imagedelivery/account/some-id/public/"]
)
def test_a_hosted_url_with_a_trailing_slash_is_a_clear_400(
    client: httpx.Client, path: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 400
    assert "no '/' after the variant" in response.text


# --- parameters FastAPI refuses get the API's own answer ------------------------------------


def test_a_malformed_query_parameter_gets_the_api_envelope(start_server) -> None:
    server = start_server(api_tokens=("t",))
    with server.client(headers={"Authorization": "Bearer t"}) as client:
        for query in ("per_page=abc", "page=1.5"):
            response = client.get(f"/images/v1?{query}")
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["success"] is False and body["result"] is None
            assert body["errors"][0]["code"] == 9424
            assert query.split("=")[0] in body["errors"][0]["message"]
