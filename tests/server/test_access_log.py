"""Over HTTP: a request id on every response and log line, one access line per request with
what the delivery did, and each error logged once."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from conftest import RunningServer, read_photo, server_settings, serving
from focal.logs import JsonFormatter, RequestIdFilter
from focal.server import create_app

NEW_ID = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    """Every record of the process, formatted as the server's JSON lines, parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["logger"] == logger]

    def of_request(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["request_id"] == request_id]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """Captured on the root logger and on uvicorn's (which, as the tests run uvicorn, does not
    propagate to the root), at every level."""
    handler = Lines()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _access(lines: Lines, request_id: str) -> dict[str, Any]:
    """The access line of a request: logged once the response is sent, so perhaps just after
    the client has it."""
    deadline = time.monotonic() + 30
    while True:
        found = [line for line in lines.of("focal.access") if line["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    (line,) = found
    return line


def _with_photo(start_server: Callable[..., RunningServer], **settings: Any) -> RunningServer:
    server = start_server(access_log=True, **settings)
    (server.origin / "group.jpg").write_bytes(read_photo("multi_face"))
    return server


def test_each_delivery_has_one_access_line_with_its_cache_outcome(
    start_server: Callable[..., RunningServer], lines: Lines
) -> None:
    server = _with_photo(start_server)
    url = server.image_url("width=120,quality=70", "group.jpg")
    with server.client() as client:
        made = client.get(url)
        hit = client.get(url)
        revalidated = client.get(url, headers={"If-None-Match": hit.headers["etag"]})
        head = client.head(url)
    assert [made.status_code, hit.status_code, revalidated.status_code] == [200, 200, 304]
    first = _access(lines, made.headers["x-request-id"])
    assert first["message"].startswith(f"GET {url} 200 ")
    assert first["method"] == "GET" and first["path"] == url and first["status"] == 200
    assert first["bytes"] == len(made.content) > 0
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["options"] == "quality=70,width=120"  # canonical: sorted
    assert first["cache"] == "miss"
    assert _access(lines, hit.headers["x-request-id"])["cache"] == "hit"
    not_modified = _access(lines, revalidated.headers["x-request-id"])
    assert not_modified["cache"] == "not-modified" and not_modified["status"] == 304
    assert not_modified["bytes"] == 0
    heads = _access(lines, head.headers["x-request-id"])
    assert heads["method"] == "HEAD" and heads["bytes"] == 0 and heads["cache"] == "hit"
    assert len(lines.of("focal.access")) == 4  # one each
    assert "gravity" not in first


def test_the_fleets_store_and_face_outcomes_are_in_the_access_line(
    start_server: Callable[..., RunningServer], lines: Lines, tmp_path: Path
) -> None:
    shared = f"file://{tmp_path / 'shared'}"
    face = "width=200,height=200,fit=cover,gravity=face"
    one = _with_photo(start_server, shared_results_url=shared)
    with one.client() as client:
        detected = client.get(one.image_url(face, "group.jpg"))
        cached = client.get(one.image_url(face, "group.jpg"))
    # A second server of the fleet, with a cache of its own, finds the first one's result.
    two = _with_photo(start_server, shared_results_url=shared, detector_warm_start=False)
    _settle(one)
    with two.client() as client:
        from_fleet = client.get(two.image_url(face, "group.jpg"))
    first = _access(lines, detected.headers["x-request-id"])
    assert first["cache"] == "miss" and first["gravity"] == "face; faces=5; from=detected"
    again = _access(lines, cached.headers["x-request-id"])
    assert again["cache"] == "hit" and again["gravity"] == "face; faces=5; from=cache"
    fleet = _access(lines, from_fleet.headers["x-request-id"])
    assert fleet["cache"] == "shared" and fleet["gravity"] == "face; faces=5; from=cache"
    assert 'gravity="face; faces=5; from=detected"' in first["message"]


def _settle(server: RunningServer) -> None:
    """Wait for the server's writes to the fleet's store."""
    asyncio.run_coroutine_threadsafe(server.parts.delivery.settle(), server.loop).result(30)


def test_the_access_log_is_off_unless_asked_for(
    start_server: Callable[..., RunningServer], lines: Lines
) -> None:
    server = start_server()
    with server.client() as client:
        answer = client.get("/healthz")
    assert NEW_ID.fullmatch(answer.headers["x-request-id"])
    assert lines.of("focal.access") == []


def test_a_safe_request_id_is_kept_and_an_unsafe_one_replaced(
    start_server: Callable[..., RunningServer], lines: Lines
) -> None:
    server = start_server(access_log=True)
    with server.client() as client:
        kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        replaced = client.get("/healthz", headers={"X-Request-ID": "bad id; <x>"})
        too_long = client.get("/healthz", headers={"X-Request-ID": "a" * 129})
        made = client.get("/healthz")
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    for answer in (replaced, too_long, made):
        assert NEW_ID.fullmatch(answer.headers["x-request-id"])
    assert _access(lines, "lb-7f3a.42")["path"] == "/healthz"
    assert all(line["request_id"] != "bad id; <x>" for line in lines.lines)


def test_lines_logged_in_worker_threads_carry_the_request_id(
    start_server: Callable[..., RunningServer], lines: Lines, tmp_path: Path
) -> None:
    # The fleet's store's results folder is a file: each write fails, and is logged (a
    # warning, not an error for the client) from the thread that tried it, in the background.
    server = _with_photo(start_server, shared_results_url=f"file://{tmp_path}")
    (tmp_path / "results").write_bytes(b"")
    with server.client() as client:
        answer = client.get(
            server.image_url("width=80", "group.jpg"), headers={"X-Request-ID": "thread-1"}
        )
    assert answer.status_code == 200
    _settle(server)
    writes = [
        line
        for line in lines.of("focal.service.shared_results")
        if line["message"].startswith("shared results: writing")
    ]
    assert writes and all(line["request_id"] == "thread-1" for line in writes)
    assert _access(lines, "thread-1")["cache"] == "miss"


def test_a_refusal_is_one_line_with_its_code_and_no_traceback(
    start_server: Callable[..., RunningServer], lines: Lines
) -> None:
    server = start_server(access_log=True)
    with server.client() as client:
        answer = client.get(
            server.image_url("width=banana", "photo.jpg"), headers={"X-Request-ID": "bad-1"}
        )
    assert answer.status_code == 400
    access = _access(lines, "bad-1")
    refusal, last = lines.of_request("bad-1")  # the refusal, and the access line: nothing else
    assert last == access
    assert refusal["level"] == "info" and refusal["logger"] == "focal.server.app"
    assert "9401" in refusal["message"] and "width" in refusal["message"]
    assert "traceback" not in refusal
    assert access["logger"] == "focal.access" and access["status"] == 400


def test_an_unexpected_error_is_logged_once_and_answered_500_with_the_request_id(
    tmp_path: Path, lines: Lines
) -> None:
    settings = server_settings(tmp_path, access_log=True)
    settings.origin_path.mkdir(parents=True)
    app: FastAPI = create_app(settings)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    with serving(app) as (url, _loop):
        answer = httpx.get(f"{url}/broken", headers={"X-Request-ID": "bug-1"})
        healthy = httpx.get(f"{url}/healthz")
    assert answer.status_code == 500 and healthy.status_code == 200
    assert answer.headers["x-request-id"] == "bug-1"
    assert "bug-1" in answer.text
    assert "a bug" not in answer.text  # the cause is for the log, not the client
    assert _access(lines, "bug-1")["status"] == 500
    errors = [line for line in lines.lines if line["level"] in ("error", "critical")]
    assert len(errors) == 1, errors
    (error,) = errors
    assert error["request_id"] == "bug-1" and "RuntimeError: a bug" in error["traceback"]
