"""A server killed (SIGKILL) at each point of an upload: after a restart, a retry of the same
id works at once, nothing half-written remains, and every listed image reads back whole.

The server is a real process on 127.0.0.1. Points inside the server are reached by stalling
it there (the serving script below wraps the step in a sleep, for one image id only, and
drops a marker file), then killing it; points in the body are reached by sending part of it.
"""

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
from pathlib import Path

import httpx
import pytest

from conftest import free_port, read_photo
from focal.service.hosted import blob_key

TOKEN = "crash-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Stall points inside the server, in the order an upload reaches them.
SERVER_POINTS = ("body-in", "reserved", "mid-put", "before-commit", "after-commit")
SERVE = """
import hashlib, os, sys, time, types, uvicorn
from focal.catalog import HostedCatalog
from focal.config import load_settings
from focal.server import create_app
from focal.service.hosted import HostedImages
from focal.storage import LocalBlobStore, local

data_dir, port, token, stall_at, stall_id = sys.argv[1:6]
folder = hashlib.sha256(stall_id.encode()).hexdigest()


def stall(point, concerned):
    if point == stall_at and concerned:
        open(os.path.join(data_dir, "stalled"), "w").close()
        time.sleep(3600)  # until killed


def wrap(owner, name, before, after=None, concerns=lambda *args: True):
    original = getattr(owner, name)
    def wrapped(*args, **kwargs):
        stall(before, concerns(*args))
        result = original(*args, **kwargs)
        stall(after, concerns(*args))
        return result
    setattr(owner, name, wrapped)


wrap(HostedImages, "_reserve", "body-in", concerns=lambda self, record: record.id == stall_id)
wrap(LocalBlobStore, "put", "reserved", concerns=lambda self, key, data: folder in key)
wrap(
    HostedCatalog, "complete_draft", "before-commit", "after-commit",
    concerns=lambda self, image_id: image_id == stall_id,
)
os_replace = os.replace
def stalling_replace(source, target):
    stall("mid-put", folder in str(target))  # the temporary file is written, not yet renamed
    return os_replace(source, target)
local.os = types.SimpleNamespace(**{**vars(os), "replace": stalling_replace})

settings = load_settings(
    environ={}, data_dir=data_dir, api_tokens=(token,), detector_warm_start=False
)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(port), log_level="warning")
"""


@contextmanager
def server_process(
    data_dir: Path, stall_at: str = "nowhere", stall_id: str = ""
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(data_dir), str(port), TOKEN, stall_at, stall_id],
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


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)


def upload_request(url: str, image_id: str, data: bytes) -> bytes:
    """The raw HTTP request of an upload, so that a test can send any part of it."""
    boundary = "focalcrashtest"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n{image_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    host = url.removeprefix("http://")
    head = (
        f"POST /images/v1 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)))


def wait_for_stall(data_dir: Path, process: subprocess.Popen[bytes]) -> None:
    marker = data_dir / "stalled"
    while not marker.exists():  # asserts nothing about time
        assert process.poll() is None, "the server died before the stall point"
        time.sleep(0.02)
    marker.unlink()


def upload(client: httpx.Client, image_id: str, data: bytes) -> httpx.Response:
    return client.post("/images/v1", files={"file": ("p.jpg", data)}, data={"id": image_id})


def files_under(data_dir: Path) -> tuple[list[str], list[str]]:
    """(blob keys, temporary files) of the local blob store."""
    root = data_dir / "blobs"
    found = [p for p in root.rglob("*") if p.is_file()]
    temporary = sorted(str(p.relative_to(root)) for p in found if p.name.startswith(".focal-tmp"))
    blobs = sorted(str(p.relative_to(root)) for p in found if not p.name.startswith(".focal-tmp"))
    return blobs, temporary


def assert_whole(client: httpx.Client, data_dir: Path, expected: dict[str, bytes]) -> None:
    """Exactly the expected images are listed, each reads back whole, no other file is left."""
    listed = client.get("/images/v1", params={"per_page": 100}).json()["result"]["images"]
    assert sorted(image["id"] for image in listed) == sorted(expected)
    for image_id, data in expected.items():
        assert client.get(f"/images/v1/{image_id}/blob").content == data, image_id
    keys = sorted(blob_key(i, hashlib.sha256(d).hexdigest()) for i, d in expected.items())
    assert files_under(data_dir) == (keys, [])


@pytest.mark.parametrize("point", ["headers", "mid-body", *SERVER_POINTS])
def test_killed_at_any_point_of_an_upload_a_retry_works_at_once(tmp_path: Path, point: str) -> None:
    kept, photo = read_photo("grace_hopper"), read_photo("multi_face")
    with server_process(tmp_path, stall_at=point, stall_id="crashed") as (process, url):
        with httpx.Client(base_url=url, headers=AUTH) as client:
            assert upload(client, "kept", kept).status_code == 200
        request = upload_request(url, "crashed", photo)
        with connect(url) as connection:
            if point == "headers":
                connection.sendall(request[: request.index(b"\r\n\r\n") + 4])
            elif point == "mid-body":
                connection.sendall(request[: len(request) // 2])
            else:
                connection.sendall(request)
            if point in SERVER_POINTS:
                wait_for_stall(tmp_path, process)
            else:
                time.sleep(0.3)  # lets the server read what was sent; asserts nothing
            kill(process)
    with server_process(tmp_path) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        if point == "after-commit":  # the image was stored: it stays, whole
            assert upload(client, "crashed", photo).status_code == 409
        else:
            assert_whole(client, tmp_path, {"kept": kept})
            retried = upload(client, "crashed", photo)
            assert retried.status_code == 200, retried.text
        assert_whole(client, tmp_path, {"kept": kept, "crashed": photo})


def test_a_peer_mid_upload_is_left_alone_and_its_crash_is_cleared_at_once(
    tmp_path: Path,
) -> None:
    """Two servers on one catalog and store: one's start and retries wait for the other's
    live upload, and take its place as soon as it is dead, without a restart."""
    photo = read_photo("multi_face")
    with (
        server_process(tmp_path, stall_at="mid-put", stall_id="shared") as (writer, url),
        connect(url) as connection,
    ):
        connection.sendall(upload_request(url, "shared", photo))
        wait_for_stall(tmp_path, writer)
        with (
            server_process(tmp_path) as (_, peer_url),
            httpx.Client(base_url=peer_url, headers=AUTH) as peer,
        ):
            assert upload(peer, "shared", photo).status_code == 409
            assert len(files_under(tmp_path)[1]) == 1  # the writer's, kept by the sweep
            kill(writer)
            assert upload(peer, "shared", photo).status_code == 200
            assert peer.get("/images/v1/shared/blob").content == photo
    # The dead writer's temporary file goes at the next start of any server of this host.
    with server_process(tmp_path) as (_, url), httpx.Client(base_url=url, headers=AUTH) as client:
        assert_whole(client, tmp_path, {"shared": photo})
