"""A fleet: one server ingests into S3 and the catalog; another serves the recording."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import running_server, server_settings
from storage.s3server import BUCKET, S3Server, running_s3
from stream.conftest import AUTH, TOKEN, free_port, wait_for
from stream.media import push_command


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with running_s3() as s3:
        yield s3


def test_any_server_plays_back_what_one_server_ingests(
    database_url: str,
    s3: S3Server,
    pattern: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    prefix = f"fleet-{tmp_path.name}"
    shared = {
        "catalog_url": database_url,
        "storage_url": s3.url(prefix=prefix),
        "api_tokens": (TOKEN,),
        "detector_warm_start": False,
    }
    ingesting = server_settings(
        tmp_path / "a", stream_enabled=True, stream_rtmp_port=free_port(), **shared
    )
    playing = server_settings(tmp_path / "b", **shared)
    with (
        running_server(ingesting) as ingest,
        running_server(playing) as playback,
        ingest.client() as to_ingest,
        playback.client() as client,
    ):
        created = client.post("/stream/live_inputs", headers=AUTH, json={}).json()["result"]
        assert created["rtmp"]["url"] == "rtmp://127.0.0.1:1935/live/"  # b's own setting
        key = created["rtmp"]["streamKey"]
        url = f"rtmp://127.0.0.1:{ingesting.stream_rtmp_port}/live/{key}"
        assert subprocess.run(push_command(pattern, url, speed=3, stop_after=6)).returncode == 0
        videos = f"/stream/live_inputs/{created['uid']}/videos"
        ready = wait_for(
            lambda: [
                v
                for v in client.get(videos, headers=AUTH).json()["result"]
                if v["status"]["state"] == "ready"
            ],
            "the recording to be ready",
        )
        uid = ready[0]["uid"]
        manifest = client.get(f"/stream/{uid}/manifest/video.m3u8")
        listed = [line for line in manifest.text.splitlines() if line.startswith("/stream/")]
        assert len(listed) == 3
        assert all(client.get(segment).status_code == 200 for segment in listed)
        clip = client.get(f"/stream/{uid}/clip.mp4?time=1s&duration=2s")
        assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
        stored = [k for k in s3.objects(BUCKET) if k.startswith(f"{prefix}/stream/{uid}/")]
        assert len(stored) == 3
        assert to_ingest.delete(f"/stream/videos/{uid}", headers=AUTH).status_code == 200
        assert not [k for k in s3.objects(BUCKET) if k.startswith(f"{prefix}/stream/{uid}/")]
        assert client.get(listed[0]).status_code == 404
