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


def _nal_units(packet: bytes) -> tuple[bytes, ...]:
    """A length-prefixed (AVCC) H.264 packet's coded NAL units: parameter sets and access
    unit delimiters, which MPEG-TS carries in band, left out."""
    units, at = [], 0
    while at + 4 <= len(packet):
        size = int.from_bytes(packet[at : at + 4], "big")
        unit = packet[at + 4 : at + 4 + size]
        if unit and unit[0] & 0x1F not in (7, 8, 9):
            units.append(unit)
        at += 4 + size
    return tuple(units)


def _packets(data: bytes | str) -> dict[str, list[tuple[float, bytes]]]:
    """(pts seconds, bytes) of every video and audio packet, in decoding order."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    found: dict[str, list[tuple[float, bytes]]] = {"video": [], "audio": []}
    with av.open(source) as container:
        assert isinstance(container, av.container.InputContainer)
        for packet in container.demux():
            if packet.dts is not None and packet.pts is not None:
                found[packet.stream.type].append(
                    (float(packet.pts * packet.time_base), bytes(packet))
                )
    return found


@pytest.fixture(scope="module")
def recorded(broadcast: Broadcast) -> dict[str, Any]:
    """The broadcast's video, once the push has ended and it is ready (VOD)."""
    return broadcast.finished()


def test_disconnect_makes_the_recording_ready_for_vod(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    client, uid = broadcast.client, recorded["uid"]
    assert recorded["status"]["state"] == "ready"
    assert abs(recorded["duration"] - PATTERN_SECONDS) <= GOP_SECONDS
    assert recorded["playback"]["hls"].endswith(f"/stream/{uid}/manifest/video.m3u8")
    vod = client.get(f"/stream/{uid}/manifest/video.m3u8")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in vod.text and "#EXT-X-ENDLIST" in vod.text
    assert len(_segments(vod.text)) == round(PATTERN_SECONDS / GOP_SECONDS)
    assert client.get(f"/stream/{uid}/lifecycle").json() == {
        "isInput": False,
        "videoUID": uid,
        "live": False,
    }
    assert client.get(f"/stream/{broadcast.input_id}/lifecycle").json()["live"] is False
    live_input = client.get(f"/stream/live_inputs/{broadcast.input_id}", headers=AUTH).json()
    assert live_input["result"]["status"]["current"]["state"] == "disconnected"


def test_the_preview_header_says_where_its_segments_start(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    client = broadcast.client
    preview = client.get(f"/stream/{broadcast.input_id}/manifest/video.m3u8?duration=5s")
    assert preview.status_code == 200, preview.text
    assert preview.headers["stream-media-id"] == recorded["uid"]
    listed = _segments(preview.text)
    assert 3 <= len(listed) <= 4  # the last 5 s in whole GOPs of 2 s
    start = float(preview.headers["preview-start-seconds"])
    first = client.get(listed[0])
    assert first.status_code == 200 and first.headers["content-type"] == "video/mp2t"
    pictures = _packets(first.content)["video"]
    assert abs(min(at for at, _ in pictures) - start) < 0.05
    assert PATTERN_SECONDS - 5 - GOP_SECONDS <= start <= PATTERN_SECONDS - 5


@pytest.mark.parametrize(("time", "duration"), [(3.0, 4.0), (5.0, 2.0)])
def test_a_clip_is_the_pushed_packets_from_the_keyframe_at_or_before_its_time(
    broadcast: Broadcast, recorded: dict[str, Any], time: float, duration: float
) -> None:
    uid = recorded["uid"]
    answer = broadcast.client.get(
        f"/stream/{uid}/clip.mp4?time={time:g}s&duration={duration:g}s&filename=goal.mp4"
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="goal.mp4"'
    assert answer.content[4:8] == b"ftyp" and answer.content.find(b"moov") < answer.content.find(
        b"mdat"
    )  # the index first: it plays while it downloads
    start = float(answer.headers["clip-start-seconds"])
    assert time - GOP_SECONDS < start <= time
    with av.open(io.BytesIO(answer.content)) as clip:
        length = clip.duration / 1_000_000
    assert duration <= length + 0.1 and length <= duration + 2 * GOP_SECONDS
    pushed, cut = _packets(str(broadcast.source)), _packets(answer.content)
    source_units = [_nal_units(data) for _, data in pushed["video"]]
    clip_units = [_nal_units(data) for _, data in cut["video"]]
    first = source_units.index(clip_units[0])
    assert clip_units == source_units[first : first + len(clip_units)]  # not re-encoded
    assert abs(pushed["video"][first][0] - start) < 0.01  # the header tells the truth
    source_sound = [data for _, data in pushed["audio"]]
    clip_sound = [data for _, data in cut["audio"]]
    at = source_sound.index(clip_sound[0])
    assert clip_sound == source_sound[at : at + len(clip_sound)]


def test_a_clip_manifest_lists_the_segments_of_the_clip(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    uid = recorded["uid"]
    answer = broadcast.client.get(f"/stream/{uid}/manifest/clip.m3u8?time=4.5s&duration=3s")
    assert answer.status_code == 200, answer.text
    assert "#EXT-X-ENDLIST" in answer.text
    start = float(answer.headers["clip-start-seconds"])
    assert 4.5 - GOP_SECONDS < start <= 4.5
    assert len(_segments(answer.text)) == 2  # 4.08-6.08 and 6.08-8.08 cover 4.5-7.5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("time=abc&duration=5s", "is not a time"),
        ("time=2s&duration=61s", "at most 60s"),
        ("time=2s&duration=5x", "is not a time"),
        ("time=2s", "duration is required"),
        ("time=11m&duration=5s", "past the end of the recording"),
        ("time=10s&duration=10s", "after the recording"),
    ],
)
def test_bad_clip_requests_are_refused_with_a_reason(
    broadcast: Broadcast, recorded: dict[str, Any], query: str, message: str
) -> None:
    for kind in ("clip.mp4", "manifest/clip.m3u8"):
        answer = broadcast.client.get(f"/stream/{recorded['uid']}/{kind}?{query}")
        assert answer.status_code == 400 and message in answer.text


def test_a_preview_longer_than_five_minutes_is_refused(broadcast: Broadcast) -> None:
    answer = broadcast.client.get(f"/stream/{broadcast.input_id}/manifest/video.m3u8?duration=6m")
    assert answer.status_code == 400 and "at most 5m" in answer.text


def test_usage_counts_minutes_recorded_and_delivered(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    broadcast.client.get(f"/stream/{recorded['uid']}/clip.mp4?time=0s&duration=4s")
    total = broadcast.client.get("/usage", headers=AUTH).json()["total"]
    assert abs(total["stream_minutes_recorded"] - PATTERN_SECONDS / 60) < 0.05
    assert total["stream_minutes_delivered"] >= 4 / 60


def test_signed_recordings_need_a_signature_and_sign_their_segments(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    from sqlalchemy import update

    from focal.catalog.schema import stream_videos
    from focal.signing import signed_url

    parts = broadcast.server.parts
    uid = recorded["uid"]
    with parts.catalog.begin() as connection:  # as an input with requireSignedURLs records
        connection.execute(
            update(stream_videos).where(stream_videos.c.uid == uid).values(require_signed_urls=True)
        )
    client = broadcast.client
    path = f"/stream/{uid}/manifest/video.m3u8"
    refused = client.get(path)
    assert refused.status_code == 403 and "requires signed URLs" in refused.text
    key = parts.hosted_catalog.signing_keys()[0][1]
    signed = client.get(signed_url(key, path, 4_102_444_800))
    assert signed.status_code == 200, signed.text
    segment = _segments(signed.text)[0]
    assert "sig=" in segment and client.get(segment).status_code == 200
    assert client.get(segment.split("?")[0]).status_code == 403
    with parts.catalog.begin() as connection:
        connection.execute(
            update(stream_videos)
            .where(stream_videos.c.uid == uid)
            .values(require_signed_urls=False)
        )


def test_the_player_page_plays_the_recording_and_builds_clip_urls(
    broadcast: Broadcast, recorded: dict[str, Any], page: Any, screenshot: Any
) -> None:
    uid = recorded["uid"]
    page.goto(f"{broadcast.server.url}/stream/{broadcast.input_id}/watch")
    page.wait_for_function("document.getElementById('video').currentTime > 1", timeout=30_000)
    assert page.text_content("#state") == "recorded"
    assert float(page.get_attribute("#position", "max")) > PATTERN_SECONDS - GOP_SECONDS
    page.fill("#position", "4")  # a range input takes a value as text
    page.dispatch_event("#position", "input")
    page.select_option("#duration", "10")
    page.click("#clip")  # 4 s + 10 s would end after the recording: it starts earlier
    mp4 = page.get_attribute("#clip-mp4", "href")
    assert mp4 == f"/stream/{uid}/clip.mp4?time=2s&duration=10s&filename=clip.mp4"
    assert broadcast.client.get(mp4).status_code == 200
    screenshot(page, "stream-player")


def test_deleting_the_recording_removes_every_segment(
    broadcast: Broadcast, recorded: dict[str, Any]
) -> None:
    client, uid = broadcast.client, recorded["uid"]
    listed = _segments(client.get(f"/stream/{uid}/manifest/video.m3u8").text)
    assert client.delete(f"/stream/videos/{uid}", headers=AUTH).json()["success"] is True
    blobs = broadcast.server.settings.data_dir / "blobs" / "stream" / uid
    assert not blobs.exists() or not any(blobs.iterdir())
    assert all(client.get(url).status_code == 404 for url in listed)
    for url in (
        f"/stream/{uid}/manifest/video.m3u8",
        f"/stream/{uid}/clip.mp4?time=1s&duration=2s",
    ):
        gone = client.get(url)
        assert gone.status_code == 404 and "deleted" in gone.text
