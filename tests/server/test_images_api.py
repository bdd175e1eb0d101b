"""The Images API over a real server: clients that send their bodies slowly hold no place in
image work, and one that goes away mid-body costs a log line."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conftest import RunningServer, server_settings, serving
from focal.server import create_app
from imaging import gradient, png

TOKEN = "images-api-token"
TRICKLERS = 3  # more than the places in image work (1) plus the queue (0)


class Watched:
    """The app, counting the requests that read their body or answered: past that point, a
    request that would take a place in image work before its body has taken it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.progressed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        noted = False

        def note() -> None:
            nonlocal noted
            if not noted:
                noted = True
                self.progressed += 1

        async def watched_receive() -> Message:
            note()
            return await receive()

        async def watched_send(message: Message) -> None:
            note()
            await send(message)

        await self.app(scope, watched_receive, watched_send)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[RunningServer, Watched]]:
    settings = server_settings(
        tmp_path, api_tokens=(TOKEN,), concurrency=1, queue_size=0, detector_warm_start=False
    )
    settings.origin_path.mkdir(parents=True)
    (settings.origin_path / "a.png").write_bytes(png(gradient(80, 60)))
    app = create_app(settings)
    wrapper = Watched(app)
    with serving(wrapper) as (url, loop):
        yield RunningServer(url, settings, app, loop), wrapper


def transform_request(server: RunningServer) -> tuple[dict[str, str], bytes]:
    """Headers and body of a real `POST /transform`: resize one PNG."""
    chain = {
        "operations": [{"op": "rotate", "angle": 90}],
        "output": {"format": "png", "quality": None, "anim": True},
    }
    request = httpx.Request(
        "POST",
        server.url + "/transform",
        headers={"Authorization": f"Bearer {TOKEN}"},
        files=[
            ("input-0", ("input-0", png(gradient(80, 60)), "application/octet-stream")),
            ("chain", (None, json.dumps(chain).encode(), "application/json")),
        ],
    )
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return headers, request.read()


@contextmanager
def started(server: RunningServer, headers: dict[str, str], body: bytes) -> Iterator[socket.socket]:
    """A connection that sent its headers and the first half of its body, and waits."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    lines = ["POST /transform HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[: len(body) // 2])
    try:
        yield sock
    finally:
        sock.close()


def finish(sock: socket.socket, body: bytes) -> int:
    sock.sendall(body[len(body) // 2 :])
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response.status


def wait_until(condition, what: str) -> None:
    """Polls; asserts nothing about time beyond a generous bound for a stuck server."""
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_slow_bodies_hold_no_place_in_image_work(watched: tuple[RunningServer, Watched]) -> None:
    server, wrapper = watched
    headers, body = transform_request(server)
    with ExitStack() as stack:
        slow = [stack.enter_context(started(server, headers, body)) for _ in range(TRICKLERS)]
        wait_until(lambda: wrapper.progressed >= TRICKLERS, "the slow requests were handled")
        with server.client() as client:
            public = client.get("/cdn-cgi/image/width=20/a.png")
        assert public.status_code == 200, public.text
        assert server.parts.jobs.admitted == 0
        # Once their bodies are in, each gets its place and its answer.
        assert [finish(sock, body) for sock in slow] == [200] * TRICKLERS


def test_a_client_gone_mid_body_costs_one_log_line(
    watched: tuple[RunningServer, Watched], caplog: pytest.LogCaptureFixture
) -> None:
    server, wrapper = watched
    uvicorn_errors = logging.getLogger("uvicorn.error")
    uvicorn_errors.addHandler(caplog.handler)  # uvicorn's loggers do not propagate
    caplog.set_level(logging.INFO)
    try:
        headers, body = transform_request(server)
        with started(server, headers, body):
            wait_until(lambda: wrapper.progressed >= 1, "the request was handled")
        wait_until(
            lambda: any("went away" in record.getMessage() for record in caplog.records),
            "the disconnect was logged",
        )
        with server.client() as client:  # and the server is fine
            assert client.get("/cdn-cgi/image/width=20/a.png").status_code == 200
    finally:
        uvicorn_errors.removeHandler(caplog.handler)
    gone = [record for record in caplog.records if "went away" in record.getMessage()]
    assert len(gone) == 1 and "\n" not in gone[0].getMessage()
    assert "POST /transform" in gone[0].getMessage()
    assert not [record for record in caplog.records if record.exc_info]
