"""Ingest's refusals and its durability: a wrong key, a codec that is not H.264, a server
killed in the middle of a broadcast."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from sqlalchemy import update

from conftest import RunningServer
from focal.catalog import UsageStore, open_catalog
from focal.catalog.live_streams import LIVE, READY, StreamCatalog
from focal.catalog.schema import stream_videos
from focal.storage import open_blob_store
from focal.stream.ingest import Ingest, IngestLimits
from focal.stream.inputs import DEFAULTS
from stream.conftest import AUTH, GOP_SECONDS, free_port, wait_for
from stream.media import encode_pattern, push_command


def _create(client: httpx.Client) -> dict[str, Any]:
    answer = client.post("/stream/live_inputs", headers=AUTH, json={})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result


def _state(client: httpx.Client, uid: str) -> dict[str, Any]:
    answer = client.get(f"/stream/live_inputs/{uid}", headers=AUTH)
    current: dict[str, Any] = answer.json()["result"]["status"]["current"]
    return current


def test_a_wrong_stream_key_is_refused_and_logged(
    stream_server: tuple[RunningServer, httpx.Client],
    pattern: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, client = stream_server
    live_input = _create(client)
    caplog.set_level(logging.WARNING, logger="focal.stream")
    wrong = live_input["rtmp"]["url"] + "not-the-key"
    pusher = subprocess.run(push_command(pattern, wrong, stop_after=1), capture_output=True)
    assert pusher.returncode != 0
    assert "no live input has this stream key" in caplog.text
    assert (
        client.get(f"/stream/live_inputs/{live_input['uid']}/videos", headers=AUTH).json()["result"]
        == []
    )


def test_a_stream_that_is_not_h264_is_refused_with_the_reason_in_its_status(
    stream_server: tuple[RunningServer, httpx.Client],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, client = stream_server
    live_input = _create(client)
    sorenson = encode_pattern(tmp_path / "h263.flv", 3, codec="flv")
    caplog.set_level(logging.WARNING, logger="focal.stream")
    url = live_input["rtmp"]["url"] + live_input["rtmp"]["streamKey"]
    subprocess.run(push_command(sorenson, url), capture_output=True)
    status = wait_for(
        lambda: (s := _state(client, live_input["uid"]))["state"] == "refused" and s,
        "the refusal",
    )
    assert "the video is Sorenson H.263: send H.264 video" in status["reason"]
    assert "Sorenson H.263" in caplog.text
    assert (
        client.get(f"/stream/live_inputs/{live_input['uid']}/videos", headers=AUTH).json()["result"]
        == []
    )


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_server_killed_mid_stream_loses_at_most_the_segment_in_progress(
    tmp_path: Path, pattern: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    engine = open_catalog(f"sqlite:///{data / 'focal.db'}")
    catalog = StreamCatalog(engine)
    live_input = catalog.create_input(dict(DEFAULTS))
    port = free_port()
    environment = {
        **os.environ,
        "FOCAL_DATA_DIR": str(data),
        "FOCAL_STREAM_RTMP_PORT": str(port),
    }
    command = [str(Path(sys.executable).with_name("focal")), "stream", "serve"]
    server = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening(port), "the RTMP port")
        url = f"rtmp://127.0.0.1:{port}/live/{live_input.stream_key}"
        pusher = subprocess.Popen(push_command(pattern, url), stderr=subprocess.DEVNULL)
        began = time.monotonic()
        video = wait_for(lambda: catalog.videos_of(live_input.uid), "the video")[0]
        wait_for(lambda: len(catalog.segments(video.uid)) >= 3, "three segments")
        pushed = time.monotonic() - began  # at most this much of the pattern was sent
        server.send_signal(signal.SIGKILL)
        server.wait()
        pusher.wait(30)
    finally:
        server.kill()
    segments = catalog.segments(video.uid)
    assert [s.sequence for s in segments] == list(range(len(segments)))
    assert all(abs(a.end - b.start) < 1e-6 for a, b in zip(segments, segments[1:], strict=False))
    blobs = open_blob_store("", data)
    for segment in segments:  # every segment indexed is whole
        with av.open(io.BytesIO(blobs.get(segment.blob_key)), format="mpegts") as part:
            pictures = [p for p in part.demux(video=0) if p.dts is not None]
        assert pictures[0].is_keyframe
        assert abs(len(pictures) / 25 - segment.duration) < 0.1
    assert segments[-1].end >= min(pushed, 12.0) - 2 * GOP_SECONDS - 1.0
    # The recording no server adds to any more is finished by the next ingest's sweep.
    assert catalog.get_video(video.uid).state == LIVE  # type: ignore[union-attr]
    with engine.begin() as connection:
        connection.execute(
            update(stream_videos).where(stream_videos.c.uid == video.uid).values(modified=0)
        )
    ingest = Ingest(catalog, blobs, UsageStore(engine), IngestLimits(1, 1000, 1 << 20, 2.0))
    assert ingest.sweep() == 1
    assert catalog.get_video(video.uid).state == READY  # type: ignore[union-attr]
    engine.dispose()
