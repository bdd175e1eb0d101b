"""A real broadcast end to end: RTMP push → live HLS → preview → clips → VOD → deletion."""

from __future__ import annotations

import io
from typing import Any

import av
import av.container
import pytest

from stream.conftest import AUTH, GOP_SECONDS, PATTERN_SECONDS, Broadcast, wait_for


def _segments(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def test_the_live_playlist_grows_while_the_input_pushes(broadcast: Broadcast) -> None:
    client = broadcast.client
    manifest = f"/stream/{broadcast.input_id}/manifest/video.m3u8"

    def listed(count: int) -> Any:
        answer = client.get(manifest)
        return (
            answer if answer.status_code == 200 and len(_segments(answer.text)) >= count else None
        )

    first = wait_for(lambda: listed(1), "the first segment")
    assert "#EXT-X-ENDLIST" not in first.text
    assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
    video_id = first.headers["stream-media-id"]
    grown = wait_for(lambda: listed(len(_segments(first.text)) + 2), "more segments")
    assert _segments(grown.text)[: len(_segments(first.text))] == _segments(first.text)
    lifecycle = client.get(f"/stream/{broadcast.input_id}/lifecycle").json()
    assert lifecycle == {"isInput": True, "videoUID": video_id, "live": True}
    status = client.get(f"/stream/live_inputs/{broadcast.input_id}", headers=AUTH).json()
    assert status["result"]["status"]["current"]["state"] == "connected"
