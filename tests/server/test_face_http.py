"""gravity=face over HTTP: faces found once, and a failing detector never fails a request."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from conftest import RunningServer, read_photo
from focal.faces import DetectorPool
from stalling import StallOnFirstTask, wait_for

FACE = "w=300,h=300,fit=cover,gravity=face,zoom=0.5"
CENTRE = "w=300,h=300,fit=cover"


def _serve_group(start_server: Callable[..., RunningServer]) -> RunningServer:
    server = start_server()
    (server.origin / "group.jpg").write_bytes(read_photo("multi_face"))
    return server


def test_face_crop_is_served_and_detection_is_reused(
    start_server: Callable[..., RunningServer],
) -> None:
    server = _serve_group(start_server)
    with server.client() as client:
        first = client.get(server.image_url(FACE, "group.jpg"))
        second = client.get(server.image_url("w=120,h=200,fit=cover,g=face", "group.jpg"))
        described = client.get(server.image_url("g=face,f=json", "group.jpg")).json()
    assert first.status_code == 200 and second.status_code == 200
    assert first.headers["focal-gravity"] == "face; faces=5; from=detected"
    assert second.headers["focal-gravity"] == "face; faces=5; from=memory"
    assert server.parts.detectors.tasks_run == 1
    image = pyvips.Image.new_from_buffer(first.content, "")
    assert (image.width, image.height) == (300, 300)
    assert len(described["faces"]) == 5
    assert all(face["score"] >= 0.9 for face in described["faces"])
    assert {"x", "y", "width", "height", "score"} == set(described["faces"][0])


def test_no_face_falls_back_to_centre_and_says_so(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    with server.client() as client:
        face = client.get(server.image_url(FACE, "cat.png"))
        centre = client.get(server.image_url(CENTRE, "cat.png"))
    assert face.headers["focal-gravity"] == 'center; reason="no face found"'
    assert face.content == centre.content


@pytest.fixture
def swap_in() -> Iterator[Callable[[RunningServer, DetectorPool], None]]:
    """`swap_in(server, pool)`: the server's faces found by `pool`, closed after the test."""
    pools: list[DetectorPool] = []

    def swap(server: RunningServer, pool: DetectorPool) -> None:
        pools.append(pool)
        faces = server.parts.faces
        old, faces.pool = faces.pool, pool
        asyncio.run_coroutine_threadsafe(old.aclose(), server.loop).result(30)

    yield swap
    for pool in pools:
        pool.close()


def test_worker_killed_mid_request_gives_centre_crop(
    start_server: Callable[..., RunningServer],
    tmp_path: Path,
    swap_in: Callable[[RunningServer, DetectorPool], None],
) -> None:
    server = _serve_group(start_server)
    marker = tmp_path / "stalled-pid"
    pool = DetectorPool(detector_factory=functools.partial(StallOnFirstTask, marker, 60.0))
    swap_in(server, pool)
    responses: list[httpx.Response] = []

    def ask() -> None:
        with server.client() as client:
            responses.append(client.get(server.image_url(FACE, "group.jpg")))

    request = threading.Thread(target=ask)
    request.start()
    pid = asyncio.run(wait_for(marker))
    os.kill(pid, signal.SIGKILL)
    request.join(60)
    with server.client() as client:
        centre = client.get(server.image_url(CENTRE, "group.jpg"))
        after = client.get(server.image_url(FACE, "group.jpg"))

    (fallback,) = responses
    assert fallback.status_code == 200
    assert fallback.headers["focal-gravity"].startswith(
        'center; reason="face detection unavailable: '
    )
    assert f"worker {pid}" in fallback.headers["focal-gravity"]
    assert fallback.headers["cache-control"] == "no-store"
    assert fallback.content == centre.content
    assert fallback.headers["etag"] != after.headers["etag"]
    # The pool replaced the dead worker: the next request gets its faces.
    assert after.headers["focal-gravity"] == "face; faces=5; from=detected"
    assert after.content != centre.content


def test_detector_timeout_gives_centre_crop(
    start_server: Callable[..., RunningServer],
    tmp_path: Path,
    swap_in: Callable[[RunningServer, DetectorPool], None],
) -> None:
    server = _serve_group(start_server)
    marker = tmp_path / "stalled-pid"
    factory = functools.partial(StallOnFirstTask, marker, 60.0)
    swap_in(server, DetectorPool(task_timeout=2.0, detector_factory=factory))
    with server.client() as client:
        slow = client.get(server.image_url(FACE, "group.jpg"))
        centre = client.get(server.image_url(CENTRE, "group.jpg"))
    assert slow.status_code == 200
    assert "face detection unavailable" in slow.headers["focal-gravity"]
    assert slow.content == centre.content
