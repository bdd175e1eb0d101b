"""What the delivery-over-HTTP tests share: an origin folder of real and odd files, a real
server on it, and ways to send and check requests."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import RunningServer, read_photo, running_server, server_settings
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


def module_fixtures() -> tuple[Any, Any]:
    """A module's `server` (on an origin folder filled by `fill_origin`) and its `client`:
    `server, client = module_fixtures()` at the top of a test module."""

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

    return server, client


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
