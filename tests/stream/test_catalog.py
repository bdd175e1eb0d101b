"""The stream records on every catalog backend, and the sweeps that keep them tidy."""

from __future__ import annotations

from sqlalchemy import Engine

from focal.catalog.live_streams import LIVE, READY, Segment, StreamCatalog
from focal.storage import LocalBlobStore
from focal.stream.ingest import segment_key
from focal.stream.inputs import DAY_SECONDS, DEFAULTS, StreamInputs


def _recorded(catalog: StreamCatalog, blobs: LocalBlobStore, **settings: object) -> tuple[str, str]:
    live_input = catalog.create_input({**DEFAULTS, **settings})
    video = catalog.create_video(live_input)
    for number in range(3):
        key = segment_key(video.uid, number)
        blobs.put(key, b"segment %d" % number)
        catalog.add_segment(Segment(video.uid, number, 2.0 * number + 0.1, 2.0, 9, key))
    return live_input.uid, video.uid


def test_segments_are_indexed_by_time_and_grow_the_video(engine: Engine, tmp_path: object) -> None:
    catalog = StreamCatalog(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")  # type: ignore[operator]
    input_uid, video_uid = _recorded(catalog, blobs)
    video = catalog.get_video(video_uid)
    assert video is not None and video.state == LIVE and abs(video.duration - 6.1) < 1e-9
    assert [s.sequence for s in catalog.segments(video_uid, 2.5, 4.0)] == [1]
    assert [s.sequence for s in catalog.segments(video_uid, 2.1)] == [1, 2]
    assert catalog.segment(video_uid, 2) is not None and catalog.segment(video_uid, 3) is None
    catalog.finish_video(video_uid)
    assert catalog.videos_of(input_uid)[0].state == READY
    assert catalog.input_by_key("nope") is None


def test_recordings_go_after_delete_recording_after_days(engine: Engine, tmp_path: object) -> None:
    catalog = StreamCatalog(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")  # type: ignore[operator]
    inputs = StreamInputs(catalog, blobs)
    _, kept = _recorded(catalog, blobs)
    _, expiring = _recorded(catalog, blobs, delete_after_days=1)
    _, unrecorded = _recorded(catalog, blobs, recording_mode="off")
    live_input, live = _recorded(catalog, blobs, delete_after_days=1)
    for uid in (kept, expiring, unrecorded):
        catalog.finish_video(uid)
    ready_at = catalog.get_video(expiring).ready_at  # type: ignore[union-attr]
    assert inputs.sweep(now=ready_at) == 1  # `off` keeps a recording only while it is live
    assert catalog.get_video(unrecorded) is None
    assert inputs.sweep(now=ready_at + DAY_SECONDS * 1_000_000) == 1
    assert catalog.get_video(expiring) is None and not blobs.exists(segment_key(expiring, 0))
    assert catalog.get_video(kept) is not None and catalog.get_video(live) is not None
    inputs.delete(live_input)  # an input goes with its recordings
    assert catalog.get_video(live) is None and not blobs.exists(segment_key(live, 1))
