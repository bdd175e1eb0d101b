"""A server killed in the middle of an upload: nothing half-stored, nothing lost before it."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyvips
from sqlalchemy import update

from conftest import read_photo
from focal.catalog import HostedCatalog, ImageRecord, catalog_url, open_catalog
from focal.catalog.schema import images
from focal.catalog.times import to_micros
from focal.storage import open_blob_store

TOKEN = "crash-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVE = """
import sys, uvicorn
from focal.config import load_settings
from focal.server import create_app
settings = load_settings(
    environ={}, data_dir=sys.argv[1], api_tokens=(sys.argv[3],), detector_warm_start=False
)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_process(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(data_dir), str(port), TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:  # waits for start-up; asserts nothing about time
            assert process.poll() is None, "the server did not start"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def _blob_files(data_dir: Path) -> list[str]:
    root = data_dir / "blobs"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _noise_png(side: int) -> bytes:
    grey = pyvips.Image.gaussnoise(side, side, mean=128, sigma=60).cast("uchar")
    return bytes(grey.bandjoin([grey, grey]).pngsave_buffer(compression=1))


def test_killed_mid_upload_leaves_nothing_and_keeps_the_rest(tmp_path: Path) -> None:
    photo = read_photo("grace_hopper")
    with server_process(tmp_path) as (process, url):
        files = {"file": ("kept.jpg", photo)}
        kept = httpx.post(f"{url}/images/v1", headers=AUTH, files=files, data={"id": "kept"})
        assert kept.status_code == 200
        # Half a 5 MB upload, then the server dies.
        body_image = _noise_png(1100)
        boundary = "focalcrashtest"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\npartial\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="p.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + body_image
            + f"\r\n--{boundary}--\r\n".encode()
        )
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as connection:
            head = (
                f"POST /images/v1 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            connection.sendall(head + body[: len(body) // 2])
            time.sleep(0.3)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
    with server_process(tmp_path) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        assert client.get("/images/v1/kept/blob").content == photo
        assert client.get("/images/v1/partial").status_code == 404
        stats = client.get("/images/v1/stats").json()["result"]
        assert stats == {"count": {"current": 1}, "bytes": {"current": len(photo)}}
    digest = hashlib.sha256(photo).hexdigest()
    assert _blob_files(tmp_path) == [f"images/kept/{digest}"]


def test_an_upload_cut_off_after_its_blob_is_swept_at_start(tmp_path: Path) -> None:
    """The state a crash between writing the blob and recording the image leaves behind."""
    data = read_photo("chelsea")
    digest = hashlib.sha256(data).hexdigest()
    engine = open_catalog(catalog_url(tmp_path, ""))
    catalog = HostedCatalog(engine)
    reserved_at = datetime.now(UTC) - timedelta(minutes=20)
    catalog.add_image(
        ImageRecord(
            id="cut",
            filename="cut.png",
            metadata={},
            require_signed_urls=False,
            uploaded=reserved_at,
            draft=True,
            upload_expires=datetime.now(UTC) + timedelta(minutes=5),
            format=None,
            width=None,
            height=None,
            size=None,
            content_hash=None,
        )
    )
    expired = to_micros(datetime.now(UTC) - timedelta(minutes=10))
    with engine.begin() as connection:  # the reservation ran out while the server was down
        connection.execute(
            update(images).where(images.c.id == "cut").values(upload_expires=expired)
        )
    open_blob_store("", tmp_path).put(f"images/cut/{digest}", data)
    engine.dispose()
    with server_process(tmp_path) as (_, url):
        assert httpx.get(f"{url}/images/v1/cut", headers=AUTH).status_code == 404
    assert _blob_files(tmp_path) == []
