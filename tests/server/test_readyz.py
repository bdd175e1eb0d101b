"""GET /readyz: ready when the catalog and the blob storage work; the detector is reported."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

from conftest import RunningServer
from focal.storage.keys import HEALTH_PREFIX

DETECTOR_STATES = {"warm", "starting", "cold", "unavailable"}


def _ready(server: RunningServer) -> tuple[int, dict[str, Any]]:
    with server.client() as client:
        answer = client.get("/readyz")
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    return answer.status_code, answer.json()


def test_a_working_server_is_ready_and_leaves_no_probe_behind(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(detector_warm_start=False)
    status, body = _ready(server)
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {
            "catalog": {"status": "ok"},
            "storage": {"status": "ok"},
            "detector": {"status": "cold"},  # no warm start: workers start on first use
        },
    }
    blobs = server.settings.data_dir / "blobs"
    probes = [path for path in (blobs / HEALTH_PREFIX).rglob("*") if path.is_file()]
    assert probes == []  # written, read back and deleted
    with server.client() as client:
        assert client.get("/healthz").json()["status"] == "ok"


def test_a_warm_start_is_reported_warm_once_the_model_is_loaded(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    states = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body = _ready(server)
        assert status == 200  # ready whatever the detector's state
        states.append(body["checks"]["detector"]["status"])
        if states[-1] == "warm":
            break
        time.sleep(0.05)
    assert states[-1] == "warm"
    assert set(states) <= {"starting", "warm"}


def test_a_detector_that_is_down_is_reported_but_the_server_stays_ready(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(detector_warm_start=False)
    server.parts.detectors.close()
    status, body = _ready(server)
    assert status == 200 and body["status"] == "ready"
    assert body["checks"]["detector"] == {
        "status": "unavailable",
        "error": "the face detector pool is closed",
    }


def test_a_broken_storage_folder_makes_the_server_unready(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(detector_warm_start=False)
    blobs = server.settings.data_dir / "blobs"
    shutil.rmtree(blobs, ignore_errors=True)
    blobs.write_bytes(b"a file where the blob folder should be")
    status, body = _ready(server)
    assert status == 503
    assert body["status"] == "not ready" and body["failing"] == ["storage"]
    assert body["checks"]["storage"]["status"] == "failing"
    assert "Error" in body["checks"]["storage"]["error"]
    assert body["checks"]["catalog"] == {"status": "ok"}


def test_a_catalog_that_is_gone_makes_the_server_unready(
    start_server: Callable[..., RunningServer], postgres_cluster: Any
) -> None:
    database = postgres_cluster.create_database()
    server = start_server(catalog_url=postgres_cluster.url(database), detector_warm_start=False)
    assert _ready(server)[0] == 200
    postgres_cluster.drop_database(database)
    status, body = _ready(server)
    assert status == 503
    assert body["failing"] == ["catalog"]
    assert body["checks"]["catalog"]["status"] == "failing"
    assert database in body["checks"]["catalog"]["error"]
    assert body["checks"]["storage"] == {"status": "ok"}
