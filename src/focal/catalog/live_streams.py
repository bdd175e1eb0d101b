"""Live inputs, their recordings and the recordings' segments (focal.stream's records)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from focal.catalog.schema import live_inputs, stream_segments, stream_videos
from focal.catalog.store import Store
from focal.catalog.times import now_micros

LIVE, READY = "live-inprogress", "ready"
CONNECTED, DISCONNECTED, REFUSED = "connected", "disconnected", "refused"


@dataclass(frozen=True)
class LiveInput:
    uid: str
    stream_key: str
    created: int
    modified: int
    meta: dict[str, Any]
    enabled: bool
    recording_mode: str
    timeout_seconds: int
    require_signed_urls: bool
    allowed_origins: list[str]
    delete_after_days: int | None
    state: str
    reason: str | None
    state_at: int


@dataclass(frozen=True)
class Video:
    uid: str
    live_input: str
    created: int
    modified: int
    state: str
    duration: float
    require_signed_urls: bool
    ready_at: int | None


@dataclass(frozen=True)
class Segment:
    video: str
    sequence: int
    start: float
    duration: float
    size: int
    blob_key: str

    @property
    def end(self) -> float:
        return self.start + self.duration


def _input(row: RowMapping) -> LiveInput:
    return LiveInput(
        uid=row["uid"],
        stream_key=row["stream_key"],
        created=int(row["created"]),
        modified=int(row["modified"]),
        meta=json.loads(row["meta_json"]),
        enabled=bool(row["enabled"]),
        recording_mode=row["recording_mode"],
        timeout_seconds=int(row["timeout_seconds"]),
        require_signed_urls=bool(row["require_signed_urls"]),
        allowed_origins=json.loads(row["allowed_origins"]),
        delete_after_days=row["delete_after_days"],
        state=row["state"],
        reason=row["reason"],
        state_at=int(row["state_at"]),
    )


def _video(row: RowMapping) -> Video:
    return Video(
        uid=row["uid"],
        live_input=row["live_input"],
        created=int(row["created"]),
        modified=int(row["modified"]),
        state=row["state"],
        duration=float(row["duration"]),
        require_signed_urls=bool(row["require_signed_urls"]),
        ready_at=None if row["ready_at"] is None else int(row["ready_at"]),
    )


def _segment(row: RowMapping) -> Segment:
    return Segment(
        video=row["video"],
        sequence=int(row["sequence"]),
        start=float(row["start"]),
        duration=float(row["duration"]),
        size=int(row["size"]),
        blob_key=row["blob_key"],
    )


def new_uid() -> str:
    return uuid.uuid4().hex


class StreamCatalog(Store):
    # --- live inputs ---------------------------------------------------------------------

    def create_input(self, settings: dict[str, Any]) -> LiveInput:
        now = now_micros()
        row = {
            "uid": new_uid(),
            "stream_key": secrets.token_hex(16),
            "created": now,
            "modified": now,
            "state": DISCONNECTED,
            "reason": None,
            "state_at": now,
            **self._columns(settings),
        }
        with self.engine.begin() as connection:
            connection.execute(insert(live_inputs).values(**row))
        found = self.get_input(row["uid"])
        assert found is not None
        return found

    @staticmethod
    def _columns(settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "meta_json": json.dumps(settings["meta"]),
            "enabled": settings["enabled"],
            "recording_mode": settings["recording_mode"],
            "timeout_seconds": settings["timeout_seconds"],
            "require_signed_urls": settings["require_signed_urls"],
            "allowed_origins": json.dumps(settings["allowed_origins"]),
            "delete_after_days": settings["delete_after_days"],
        }

    def update_input(self, uid: str, settings: dict[str, Any]) -> LiveInput | None:
        change = (
            update(live_inputs)
            .where(live_inputs.c.uid == uid)
            .values(modified=now_micros(), **self._columns(settings))
        )
        with self.engine.begin() as connection:
            if connection.execute(change).rowcount == 0:
                return None
        return self.get_input(uid)

    def get_input(self, uid: str) -> LiveInput | None:
        query = select(live_inputs).where(live_inputs.c.uid == uid)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _input(row)

    def input_by_key(self, stream_key: str) -> LiveInput | None:
        query = select(live_inputs).where(live_inputs.c.stream_key == stream_key)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _input(row)

    def list_inputs(self) -> list[LiveInput]:
        query = select(live_inputs).order_by(live_inputs.c.created, live_inputs.c.uid)
        with self.engine.connect() as connection:
            return [_input(row) for row in connection.execute(query).mappings()]

    def set_input_state(self, uid: str, state: str, reason: str | None) -> None:
        change = (
            update(live_inputs)
            .where(live_inputs.c.uid == uid)
            .values(state=state, reason=reason, state_at=now_micros())
        )
        with self.engine.begin() as connection:
            connection.execute(change)

    def delete_input(self, uid: str) -> bool:
        with self.engine.begin() as connection:
            return (
                connection.execute(delete(live_inputs).where(live_inputs.c.uid == uid)).rowcount
                == 1
            )

    # --- videos --------------------------------------------------------------------------

    def create_video(self, live_input: LiveInput) -> Video:
        now = now_micros()
        video = Video(
            uid=new_uid(),
            live_input=live_input.uid,
            created=now,
            modified=now,
            state=LIVE,
            duration=0.0,
            require_signed_urls=live_input.require_signed_urls,
            ready_at=None,
        )
        with self.engine.begin() as connection:
            connection.execute(insert(stream_videos).values(**video.__dict__))
        return video

    def get_video(self, uid: str) -> Video | None:
        query = select(stream_videos).where(stream_videos.c.uid == uid)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _video(row)

    def videos_of(self, live_input: str) -> list[Video]:
        query = (
            select(stream_videos)
            .where(stream_videos.c.live_input == live_input)
            .order_by(stream_videos.c.created.desc(), stream_videos.c.uid)
        )
        with self.engine.connect() as connection:
            return [_video(row) for row in connection.execute(query).mappings()]

    def videos_in_state(self, state: str) -> list[Video]:
        query = select(stream_videos).where(stream_videos.c.state == state)
        with self.engine.connect() as connection:
            return [_video(row) for row in connection.execute(query).mappings()]

    def finish_video(self, uid: str) -> None:
        """The recording is over: `ready`, for VOD."""
        now = now_micros()
        change = (
            update(stream_videos)
            .where(stream_videos.c.uid == uid, stream_videos.c.state == LIVE)
            .values(state=READY, ready_at=now, modified=now)
        )
        with self.engine.begin() as connection:
            connection.execute(change)

    def delete_video(self, uid: str) -> bool:
        """The video's record and its segments' records (the caller removes the blobs)."""
        with self.engine.begin() as connection:
            connection.execute(delete(stream_segments).where(stream_segments.c.video == uid))
            gone = connection.execute(delete(stream_videos).where(stream_videos.c.uid == uid))
            return gone.rowcount == 1

    # --- segments ------------------------------------------------------------------------

    def add_segment(self, segment: Segment) -> None:
        """Index a segment whose bytes are stored; the video's duration grows to its end."""
        with self.engine.begin() as connection:
            connection.execute(insert(stream_segments).values(**segment.__dict__))
            connection.execute(
                update(stream_videos)
                .where(stream_videos.c.uid == segment.video)
                .values(
                    duration=func.max(stream_videos.c.duration, segment.end)
                    if connection.dialect.name == "sqlite"
                    else func.greatest(stream_videos.c.duration, segment.end),
                    modified=now_micros(),
                )
            )

    def segments(self, video: str, start: float = 0.0, end: float | None = None) -> list[Segment]:
        """The video's segments that overlap [start, end), in order."""
        query = select(stream_segments).where(stream_segments.c.video == video)
        if start > 0:
            query = query.where(stream_segments.c.start + stream_segments.c.duration > start)
        if end is not None:
            query = query.where(stream_segments.c.start < end)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(stream_segments.c.sequence)).mappings()
            return [_segment(row) for row in rows]

    def segment(self, video: str, sequence: int) -> Segment | None:
        query = select(stream_segments).where(
            stream_segments.c.video == video, stream_segments.c.sequence == sequence
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _segment(row)
