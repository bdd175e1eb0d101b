"""`focal detector serve` in a real second process, and servers that use it by FOCAL_DETECTOR_URL.

Killed or stopped while a request waits on it, the service costs that request its faces only:
the server answers with centre gravity, as when a local worker fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import RunningServer
from focal.faces.workers import DetectionResult

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    port = _free_port()
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
    server = _server_with_photo(start_server, detector_url=f"http://127.0.0.1:{_free_port()}")
    assert _crop(server, FACE_CROP).content == _crop(server, CENTRE_CROP).content
