"""`focal detector serve` in a real second process, and servers that use it by FOCAL_DETECTOR_URL.

Killed or stopped while a request waits on it, the service costs that request its faces only:
the server answers with centre gravity, as when a local worker fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from conftest import RunningServer, free_port, server_settings, serving
from focal.faces.remote import RemoteDetector
from focal.faces.workers import DetectionResult, DetectionUnavailable
from focal.server.detector_service import create_detector_app

FACES = Path(__file__).parent.parent / "data" / "faces" / "images"
# A tall photo with the face in its top fifth: a face crop and a centre crop differ.
PHOTO = FACES / "face-recognition__biden.jpg"
FACE_BOX = (400, 185, 700, 555)
FACE_CROP = "w=200,h=200,fit=cover,gravity=face,f=png"
CENTRE_CROP = "w=200,h=200,fit=cover,gravity=center,f=png"


@dataclass
class DetectorProcess:
    process: subprocess.Popen[bytes]
    url: str
    port: int


def _connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:port, from /proc (the kernel accepts them
    even while the listening process is stopped)."""
    established = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port and fields[3] == "01":
                established += 1
    return established


@pytest.fixture
def detector_process(tmp_path: Path) -> Iterator[DetectorProcess]:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FOCAL_")}
    environment.update(
        FOCAL_DATA_DIR=str(tmp_path), FOCAL_LOG_LEVEL="warning", FOCAL_DETECTOR_WORKERS="1"
    )
    focal = Path(sys.executable).with_name("focal")
    process = subprocess.Popen(
        [str(focal), "detector", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its worker processes go with it when the test kills it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            while True:  # until the model is loaded; asserts nothing about time
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                threading.Event().wait(0.2)
        yield DetectorProcess(process, url, port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        if process.stderr is not None:
            process.stderr.close()


def _crop(server: RunningServer, options: str) -> httpx.Response:
    with server.client() as client:
        return client.get(f"/cdn-cgi/image/{options}/photo.jpg")


def _server_with_photo(
    start_server: Callable[..., RunningServer], **settings: object
) -> RunningServer:
    server = start_server(detector_warm_start=False, **settings)
    (server.settings.origin_path / "photo.jpg").write_bytes(PHOTO.read_bytes())
    return server


def test_the_service_answers_boxes_and_refuses_what_is_not_an_image(
    detector_process: DetectorProcess,
) -> None:
    with httpx.Client(base_url=detector_process.url, timeout=60) as client:
        answer = client.post("/detect", content=PHOTO.read_bytes())
        assert answer.status_code == 200
        result = DetectionResult.from_dict(answer.json())
        assert (result.width, result.height) == (970, 2204)
        assert len(result.faces) == 1
        x1, y1, x2, y2 = result.faces[0].box
        assert abs(x1 - FACE_BOX[0]) < 40 and abs(y2 - FACE_BOX[3]) < 40
        refused = client.post("/detect", content=b"not an image at all")
        assert refused.status_code == 415
        assert "message" in refused.json()["error"]
        empty = client.post("/detect", content=b"")
        assert empty.status_code == 400
        health = client.get("/healthz")
        assert health.json()["status"] == "warm"


def test_a_server_with_a_detector_url_crops_on_the_services_faces(
    detector_process: DetectorProcess, start_server: Callable[..., RunningServer]
) -> None:
    server = _server_with_photo(start_server, detector_url=detector_process.url)
    face = _crop(server, FACE_CROP)
    centre = _crop(server, CENTRE_CROP)
    assert face.status_code == centre.status_code == 200
    assert face.content != centre.content
    local = _server_with_photo(start_server)
    assert _crop(local, FACE_CROP).content == face.content
    with server.client() as client:
        ready = client.get("/readyz").json()
    assert ready["checks"]["detector"]["status"] == "warm"


def test_a_service_killed_mid_request_costs_that_request_its_faces_only(
    detector_process: DetectorProcess, start_server: Callable[..., RunningServer]
) -> None:
    server = _server_with_photo(start_server, detector_url=detector_process.url)
    centre = _crop(server, CENTRE_CROP).content
    os.killpg(detector_process.process.pid, signal.SIGSTOP)  # the request waits on it...
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(_crop(server, FACE_CROP)))
    request.start()
    while _connections_to(detector_process.port) == 0:
        assert request.is_alive()
        threading.Event().wait(0.05)
    os.killpg(detector_process.process.pid, signal.SIGKILL)  # ...and it dies mid-request
    request.join(60)
    assert answers and answers[0].status_code == 200
    assert answers[0].content == centre
    with server.client() as client:
        detector = client.get("/readyz").json()["checks"]["detector"]
    assert detector["status"] == "unavailable"
    assert detector_process.url in detector["error"]


def test_a_slow_service_is_given_up_at_the_timeout(
    detector_process: DetectorProcess, start_server: Callable[..., RunningServer]
) -> None:
    server = _server_with_photo(
        start_server, detector_url=detector_process.url, detector_timeout=0.5
    )
    centre = _crop(server, CENTRE_CROP).content
    os.killpg(detector_process.process.pid, signal.SIGSTOP)  # accepts, never answers
    try:
        answer = _crop(server, FACE_CROP)
    finally:
        os.killpg(detector_process.process.pid, signal.SIGCONT)
    assert answer.status_code == 200
    assert answer.content == centre


def test_no_service_at_the_url_means_centre_gravity(
    start_server: Callable[..., RunningServer],
) -> None:
    server = _server_with_photo(start_server, detector_url=f"http://127.0.0.1:{free_port()}")
    assert _crop(server, FACE_CROP).content == _crop(server, CENTRE_CROP).content


# In this process (the code under test runs where coverage sees it): the service's own answers,
# and the client's answers to a service that misbehaves.


@pytest.fixture(scope="module")
def in_process_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = server_settings(tmp_path_factory.mktemp("detector"), max_source_bytes=2_000_000)
    with serving(create_detector_app(settings)) as (url, _):
        with httpx.Client(base_url=url, timeout=60) as client:
            while client.get("/healthz").status_code != 200:  # until the model is loaded
                threading.Event().wait(0.2)
        yield url


def test_the_service_refuses_a_body_over_the_source_limit(in_process_service: str) -> None:
    with httpx.Client(base_url=in_process_service, timeout=60) as client:
        refused = client.post("/detect", content=b"\xff" * 2_000_001)
        assert refused.status_code == 413
        assert "FOCAL_MAX_SOURCE_BYTES" in refused.json()["error"]["message"]
        found = client.post("/detect", content=PHOTO.read_bytes())
        assert len(found.json()["faces"]) == 1


def test_a_photo_cut_short_is_refused_as_the_callers_to_fix(in_process_service: str) -> None:
    truncated = PHOTO.read_bytes()[:20_000]
    with httpx.Client(base_url=in_process_service, timeout=60) as client:
        refused = client.post("/detect", content=truncated)
    assert refused.status_code == 415
    assert refused.json()["error"]["message"]


def test_a_detection_that_fails_in_the_worker_is_a_503(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, detector_timeout=0.001)  # no inference is that quick
    with (
        serving(create_detector_app(settings)) as (url, _),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        while client.get("/healthz").status_code != 200:
            threading.Event().wait(0.2)
        failed = client.post("/detect", content=PHOTO.read_bytes())
    assert failed.status_code == 503
    assert "face detection failed" in failed.json()["error"]["message"]


def _misbehaving(status: int, body: bytes) -> FastAPI:
    app = FastAPI()

    @app.post("/detect")
    async def detect() -> Response:
        return Response(body, status_code=status, media_type="application/json")

    return app


@pytest.mark.parametrize(
    ("status", "body", "down"),
    [(503, b'{"error": {}}', True), (415, b'{"error": {}}', False), (200, b"{}", True)],
    ids=["server-error", "refused-image", "unreadable"],
)
def test_the_client_turns_every_failure_into_detection_unavailable(
    status: int, body: bytes, down: bool
) -> None:
    with serving(_misbehaving(status, body)) as (url, _):

        async def ask() -> tuple[RemoteDetector, str]:
            remote = RemoteDetector(url, timeout=30)
            with pytest.raises(DetectionUnavailable, match=url):
                await remote.detect(b"image")
            state = remote.state
            await remote.aclose()
            return remote, state

        remote, state = asyncio.run(ask())
    assert remote.tasks_run == 1
    # A refused image says nothing of the service; an error or an unreadable answer does.
    assert (state == "unavailable") is down
    assert remote.state == "unavailable"
    assert remote.start_failure == "the face detector client is closed"


def test_the_client_says_why_the_service_is_down_until_it_answers() -> None:
    with serving(_misbehaving(503, b"{}")) as (url, _):

        async def ask() -> tuple[str, str | None]:
            remote = RemoteDetector(url, timeout=30)
            remote.start(wait_ready=True)  # nothing to start
            assert remote.state == "cold"
            with pytest.raises(DetectionUnavailable):
                await remote.detect(b"image")
            state = remote.state, remote.start_failure
            await remote.aclose()
            with pytest.raises(DetectionUnavailable, match="closed"):
                await remote.detect(b"image")
            return state

        state, failure = asyncio.run(ask())
    assert state == "unavailable"
    assert failure is not None and "503" in failure
    with pytest.raises(ValueError):
        RemoteDetector("http://127.0.0.1:1", timeout=0)
