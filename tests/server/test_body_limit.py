"""Request bodies are bounded while they stream in, and refused before a byte is read when
the request is refused anyway: a real server, raw sockets sending bodies that never end."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import RunningServer

TOKEN = "body-limit-token"
HOSTED_MAX = 100_000
INPUT_MAX = 50_000
CHUNK = b"x" * 16_384


@pytest.fixture
def server(start_server) -> RunningServer:
    return start_server(
        api_tokens=(TOKEN,),
        hosted_max_bytes=HOSTED_MAX,
        max_input_bytes=INPUT_MAX,
        detector_warm_start=False,
    )


@contextmanager
def request_head(
    server: RunningServer, method: str, path: str, headers: dict[str, str]
) -> Iterator[socket.socket]:
    """A connection that sent the request line and headers, and no body yet."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        yield sock
    finally:
        sock.close()


FILE_PART = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n"
)


def send_chunks(sock: socket.socket, total: int, start: bytes = FILE_PART) -> None:
    """`total` bytes of a chunked body, and not its end: a file part that goes on for ever."""
    sent = 0
    while sent < total:
        chunk = start + CHUNK if sent == 0 else CHUNK
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sent += len(chunk)


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


CHUNKED = {"Transfer-Encoding": "chunked", "Content-Type": "multipart/form-data; boundary=b"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def envelope_error(body: bytes) -> dict:
    document = json.loads(body)
    assert document["success"] is False and document["result"] is None
    return document["errors"][0]


def test_a_bad_upload_signature_is_refused_before_the_body(server: RunningServer) -> None:
    # A body without end: the answer can only come if the server does not wait for it.
    with request_head(server, "POST", "/upload/x?exp=1&sig=0", CHUNKED) as sock:
        send_chunks(sock, 64 * 1024)
        status, headers, body = answer(sock)
    assert status == 403
    assert envelope_error(body)["code"] == 9425


def test_a_hosted_upload_is_refused_as_soon_as_it_passes_the_bound(server: RunningServer) -> None:
    with request_head(server, "POST", "/images/v1", {**CHUNKED, **AUTH}) as sock:
        send_chunks(sock, 3 * HOSTED_MAX)
        status, headers, body = answer(sock)
    assert status == 413
    error = envelope_error(body)
    assert error["code"] == 9402
    assert f"{HOSTED_MAX:,} bytes" in error["message"]


def test_a_declared_length_over_the_bound_is_refused_before_reading(
    server: RunningServer,
) -> None:
    declared = {"Content-Length": str(300 * 1024 * 1024), "Content-Type": CHUNKED["Content-Type"]}
    with request_head(server, "POST", "/images/v1", {**declared, **AUTH}) as sock:
        status, _, body = answer(sock)  # not a byte of the body was sent
    assert status == 413 and envelope_error(body)["code"] == 9402


def test_an_images_api_body_is_bounded_by_its_inputs(server: RunningServer) -> None:
    with request_head(server, "POST", "/transform", {**CHUNKED, **AUTH}) as sock:
        send_chunks(sock, 10 * INPUT_MAX + 2 * 1024 * 1024)
        status, headers, body = answer(sock)
    assert status == 413
    assert headers["cf-resized"] == "err=9402"  # the Images API's shape, not the envelope
    assert f"{INPUT_MAX:,} bytes" in body.decode()


def test_json_bodies_are_small(server: RunningServer) -> None:
    json_chunked = {"Transfer-Encoding": "chunked", "Content-Type": "application/json", **AUTH}
    with request_head(server, "POST", "/images/v1/variants", json_chunked) as sock:
        send_chunks(sock, 256 * 1024, start=b'{"id": "')
        status, _, body = answer(sock)
    assert status == 413 and envelope_error(body)["code"] == 9402
