"""Hosted uploads have their faces found in the background: the first delivery finds them."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import signal
from pathlib import Path

import pytest

from conftest import RunningServer, read_photo, running_server, server_settings
from focal.errors import ErrorKind, FocalError
from focal.faces import DetectorPool
from focal.service.early_faces import EarlyFaces
from focal.service.faces import FaceLocator
from hosted_http import AUTH, TOKEN, Start, ok, upload
from stalling import StallOnFirstTask, alive, wait_for

AVATAR = {
    "id": "avatar",
    "options": {"fit": "cover", "width": 200, "height": 200, "gravity": "face"},
}


def _drained(server: RunningServer) -> None:
    """Wait until the server's queue of uploads to detect is empty."""
    asyncio.run_coroutine_threadsafe(server.parts.early_faces.drained(), server.loop).result(60)


def test_the_first_delivery_of_an_upload_makes_no_detector_call(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, api_tokens=(TOKEN,))
    with running_server(settings) as server, server.client() as client:
        ok(upload(client, read_photo("multi_face"), id="team"))
        _drained(server)
        assert server.parts.detectors.tasks_run == 1
        ok(client.post("/images/v1/variants", headers=AUTH, json=AVATAR))
        first = client.get("/images/team/avatar")
        assert first.status_code == 200
        assert first.headers["focal-gravity"] == "face; faces=5; from=memory"
        assert server.parts.detectors.tasks_run == 1  # no call for the delivery
        assert server.parts.early_faces.found == 1
        metrics = client.get("/metrics").text
        assert "focal_upload_faces_queued_total 1.0" in metrics
        assert "focal_upload_faces_waiting 0.0" in metrics
    # Kept in the catalog too: another server on the same data finds them there.
    with running_server(settings) as again, again.client() as client:
        portrait = {
            "id": "portrait",
            "options": {"fit": "cover", "width": 120, "height": 300, "gravity": "face"},
        }
        ok(client.post("/images/v1/variants", headers=AUTH, json=portrait))
        first = client.get("/images/team/portrait")
        assert first.headers["focal-gravity"] == "face; faces=5; from=catalog"
        assert again.parts.detectors.tasks_run == 0


def test_the_upload_is_answered_while_its_detection_is_still_running(
    start_server: Start, tmp_path: Path
) -> None:
    server = start_server(api_tokens=(TOKEN,))
    marker = tmp_path / "stalled-pid"
    stalling = DetectorPool(detector_factory=functools.partial(StallOnFirstTask, marker, 60.0))
    faces = server.parts.faces
    running, faces.pool = faces.pool, stalling
    try:
        asyncio.run_coroutine_threadsafe(running.aclose(), server.loop).result(30)
        with server.client() as client:
            stored = ok(upload(client, read_photo("single_face"), id="waiting"))
            # The detector holds the upload's detection: the answer did not wait for it.
            pid = asyncio.run(wait_for(marker))
            assert alive(pid) and server.parts.early_faces.found == 0
            assert stored["id"] == "waiting"
            os.kill(pid, signal.SIGKILL)  # the detection fails: logged, found on delivery
            _drained(server)
            assert server.parts.early_faces.failed == 1
            ok(client.post("/images/v1/variants", headers=AUTH, json=AVATAR))
            avatar = client.get("/images/waiting/avatar")
        assert avatar.headers["focal-gravity"] == "face; faces=1; from=detected"
    finally:
        stalling.close()


def test_a_full_queue_drops_the_upload_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = read_photo("single_face")
    key = hashlib.sha256(data).hexdigest()

    async def scenario() -> EarlyFaces:
        gate = asyncio.Event()

        async def read() -> bytes:
            await gate.wait()
            return data

        with DetectorPool() as pool:
            early = EarlyFaces(FaceLocator(pool, None, 16), capacity=1)
            assert early.queue("hosted:first", key, read)
            await asyncio.sleep(0)  # the background task takes the first one
            assert early.queue("hosted:second", key, read)  # waits in the queue
            assert not early.queue("hosted:third", key, read)  # full: dropped
            assert early.waiting == 1
            await early.aclose()
            assert pool.tasks_run == 0
        return early

    with caplog.at_level(logging.WARNING, logger="focal.faces"):
        early = asyncio.run(scenario())
    assert (early.queued, early.dropped) == (2, 1)
    assert "the queue is full (1 waiting); the faces of hosted:third" in caplog.text


def test_an_image_gone_before_its_turn_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def gone() -> bytes:
        raise FocalError(ErrorKind.NOT_FOUND, "the original of 'deleted' is missing")

    async def scenario() -> EarlyFaces:
        with DetectorPool() as pool:
            early = EarlyFaces(FaceLocator(pool, None, 16), capacity=4)
            assert early.queue("hosted:deleted", "0" * 64, gone)
            await early.drained()
            await early.aclose()
            assert pool.tasks_run == 0
        return early

    with caplog.at_level(logging.WARNING, logger="focal.faces"):
        early = asyncio.run(scenario())
    assert (early.found, early.failed) == (0, 1)
    assert "hosted:deleted: the original of 'deleted' is missing" in caplog.text


def test_a_queue_of_none_detects_on_delivery(start_server: Start) -> None:
    server = start_server(api_tokens=(TOKEN,), upload_face_queue=0)
    with server.client() as client:
        ok(upload(client, read_photo("multi_face"), id="later"))
        ok(client.post("/images/v1/variants", headers=AUTH, json=AVATAR))
        first = client.get("/images/later/avatar")
    assert first.headers["focal-gravity"] == "face; faces=5; from=detected"
    assert server.parts.early_faces.queued == 0
