"""One pushed broadcast shared by the stream tests: encoded once, pushed once in real time."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import RunningServer, running_server, server_settings
from stream.media import encode_pattern, push_command

TOKEN = "stream-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATTERN_SECONDS = 12.0
GOP_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
    """Poll until `check()` is truthy; the limit only keeps a broken run from hanging."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def pattern(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of test pattern and tone: H.264 (closed GOPs of 2 s) and AAC, in FLV."""
    folder = tmp_path_factory.mktemp("stream-media")
    return encode_pattern(folder / "pattern.flv", PATTERN_SECONDS, gop_seconds=GOP_SECONDS)


@dataclass
class Broadcast:
    server: RunningServer
    client: httpx.Client
    live_input: dict[str, Any]
    pusher: subprocess.Popen[bytes]
    source: Path

    @property
    def input_id(self) -> str:
        uid: str = self.live_input["uid"]
        return uid

    @property
    def push_url(self) -> str:
        return self.live_input["rtmp"]["url"] + self.live_input["rtmp"]["streamKey"]

    def videos(self) -> list[dict[str, Any]]:
        answer = self.client.get(f"/stream/live_inputs/{self.input_id}/videos", headers=AUTH)
        assert answer.status_code == 200, answer.text
        videos: list[dict[str, Any]] = answer.json()["result"]
        return videos

    def video_id(self) -> str:
        videos = wait_for(self.videos, "the broadcast's video")
        uid: str = videos[0]["uid"]
        return uid

    def finished(self) -> dict[str, Any]:
        """The video once the push has ended and the recording is ready."""
        assert self.pusher.wait(120) == 0
        videos = wait_for(
            lambda: [v for v in self.videos() if v["status"]["state"] == "ready"],
            "the recording to be ready",
        )
        video: dict[str, Any] = videos[0]
        return video


def start_stream_server(
    tmp: Path, **overrides: Any
) -> Iterator[tuple[RunningServer, httpx.Client]]:
    settings = server_settings(
        tmp,
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        stream_enabled=True,
        stream_rtmp_port=free_port(),
        **overrides,
    )
    with running_server(settings) as server, server.client() as client:
        yield server, client


@pytest.fixture(scope="module")
def stream_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, httpx.Client]]:
    yield from start_stream_server(tmp_path_factory.mktemp("stream-server"))


@pytest.fixture(scope="module")
def broadcast(
    stream_server: tuple[RunningServer, httpx.Client], pattern: Path
) -> Iterator[Broadcast]:
    """A live input of the module's server, and the pattern being pushed to it (real time)."""
    server, client = stream_server
    created = client.post(
        "/stream/live_inputs",
        headers=AUTH,
        json={"meta": {"name": "test"}, "recording": {"mode": "automatic", "timeoutSeconds": 0}},
    )
    assert created.status_code == 201, created.text
    live_input = created.json()["result"]
    url = live_input["rtmp"]["url"] + live_input["rtmp"]["streamKey"]
    pusher = subprocess.Popen(push_command(pattern, url))
    try:
        yield Broadcast(server, client, live_input, pusher, pattern)
    finally:
        pusher.kill()
        pusher.wait()
