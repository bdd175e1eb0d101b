"""Playback: lifecycle, HLS manifests (live, preview, clip), segments and clip files.

Synchronous (catalog and blob store): the HTTP layer runs each call in a thread. Ids are a
video's uid or, where the product allows it, a live input's (its current recording).
A recording that requires signed URLs is served only with `?exp=&sig=` made by one of the
catalog's signing keys (as hosted images are); its manifests then list signed segment URLs.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from focal.catalog.live_streams import LIVE, READY, Segment, StreamCatalog, Video
from focal.catalog.signing_keys import SigningKeyStore
from focal.errors import ErrorKind, FocalError
from focal.extras import import_extra
from focal.signing import signed_url, verified_expiry
from focal.storage import BlobNotFound, BlobStore
from focal.stream.timing import parse_seconds

PREVIEW_MAX_SECONDS = 300.0
CLIP_MAX_SECONDS = 60.0
SIGNED_SEGMENT_SECONDS = 3600  # how long segment URLs of a signed manifest stay valid


@dataclass(frozen=True)
class Playlist:
    text: str
    video: Video
    start: float  # seconds from the start of the broadcast of its first segment
    duration: float


@dataclass(frozen=True)
class ClipFile:
    path: Path
    video: Video
    start: float
    duration: float


def segment_path(video: str, sequence: int) -> str:
    return f"/stream/{video}/segments/{sequence:08d}.ts"


def choose_clip(segments: list[Segment], start: float, duration: float) -> list[Segment]:
    """The segments from the one holding `start` (it begins at the keyframe at or before
    `start`) to the one holding `start + duration`; refused if the recording ends sooner."""
    if not segments or start >= segments[-1].end:
        end = segments[-1].end if segments else 0.0
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"time={start:g}s is past the end of the recording ({end:.1f} s so far)",
        )
    if start + duration > segments[-1].end + 1e-6:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"the clip would end at {start + duration:g} s, after the recording "
            f"({segments[-1].end:.1f} s so far): choose an earlier time or a shorter duration",
        )
    first = next(i for i, s in enumerate(segments) if s.end > start)
    chosen = []
    for segment in segments[first:]:
        chosen.append(segment)
        if segment.end >= start + duration - 1e-6:
            break
    return chosen


def _playlist(segments: list[Segment], urls: list[str], *, ended: bool, kind: str | None) -> str:
    target = max((segment.duration for segment in segments), default=2.0)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(target))}",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence if segments else 0}",
    ]
    if kind:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{kind}")
    for segment, url in zip(segments, urls, strict=True):
        lines += [f"#EXTINF:{segment.duration:.3f},", url]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


class StreamPlayback:
    def __init__(
        self,
        catalog: StreamCatalog,
        blobs: BlobStore,
        keys: SigningKeyStore,
        note_delivered: Callable[[int], None],
    ) -> None:
        self.catalog, self.blobs, self.keys = catalog, blobs, keys
        self.note_delivered = note_delivered  # milliseconds of video served

    # --- finding and checking --------------------------------------------------------------

    def resolve(self, uid: str) -> tuple[Video, bool]:
        """The video `uid` names, and whether it was named by its live input's uid."""
        video = self.catalog.get_video(uid)
        if video is not None:
            return video, False
        if self.catalog.get_input(uid) is None:
            raise FocalError(
                ErrorKind.NOT_FOUND, f"no video or live input {uid!r}: it may have been deleted"
            )
        videos = self.catalog.videos_of(uid)
        live = [video for video in videos if video.state == LIVE]
        if live or videos:
            return (live or videos)[0], True
        raise FocalError(
            ErrorKind.NOT_FOUND, f"live input {uid} has no recording yet: push to it first"
        )

    def lifecycle(self, uid: str) -> dict[str, object]:
        """`{isInput, videoUID, live}` as the product answers it."""
        video = self.catalog.get_video(uid)
        is_input = video is None and self.catalog.get_input(uid) is not None
        if video is None and not is_input:
            raise FocalError(ErrorKind.NOT_FOUND, f"no video or live input {uid!r}")
        if is_input:
            videos = self.catalog.videos_of(uid)
            live = [v for v in videos if v.state == LIVE]
            video = live[0] if live else None
        return {
            "isInput": is_input,
            "videoUID": video.uid if video else None,
            "live": bool(video and video.state == LIVE),
        }

    def check_access(self, video: Video, path: str, query: Mapping[str, str]) -> int | None:
        """None for a public video; the signature's expiry for a signed one, else refused."""
        if not video.require_signed_urls:
            return None

        def secrets() -> list[str]:
            return [secret for _, secret in self.keys.signing_keys()]

        return verified_expiry(path, query, secrets, "video")

    def _urls(self, video: Video, segments: list[Segment], expires: int | None) -> list[str]:
        paths = [segment_path(video.uid, segment.sequence) for segment in segments]
        if expires is None:
            return paths
        key = self.keys.signing_keys()[0][1]
        until = min(expires, int(time.time()) + SIGNED_SEGMENT_SECONDS)
        return [signed_url(key, path, until) for path in paths]

    # --- manifests -----------------------------------------------------------------------

    def manifest(
        self, uid: str, duration: str | None, path: str, query: Mapping[str, str]
    ) -> Playlist:
        """The recording's playlist; with `duration`, a preview of its last `duration`."""
        video, _ = self.resolve(uid)
        expires = self.check_access(video, path, query)
        segments = self.catalog.segments(video.uid)
        if duration is not None:
            seconds = parse_seconds(duration, "duration")
            if not 0 < seconds <= PREVIEW_MAX_SECONDS:
                raise FocalError(
                    ErrorKind.BAD_REQUEST,
                    f"a preview's duration is more than 0 and at most 5m, not {duration!r}",
                )
            edge = segments[-1].end if segments else 0.0
            segments = [s for s in segments if s.end > edge - seconds]
        ended = video.state == READY
        kind = "VOD" if ended and duration is None else ("EVENT" if duration is None else None)
        text = _playlist(segments, self._urls(video, segments, expires), ended=ended, kind=kind)
        start = segments[0].start if segments else 0.0
        return Playlist(text, video, start, sum(s.duration for s in segments))

    def _clip_segments(
        self, uid: str, time_text: str | None, duration_text: str | None
    ) -> tuple[Video, list[Segment]]:
        video = self.catalog.get_video(uid)
        if video is None:
            raise FocalError(
                ErrorKind.NOT_FOUND,
                f"no video {uid!r}: it may have been deleted (clips need a video's uid)",
            )
        start = parse_seconds(time_text, "time")
        duration = parse_seconds(duration_text, "duration")
        if not 0 < duration <= CLIP_MAX_SECONDS:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                f"a clip's duration is more than 0 and at most 60s, not {duration_text!r}",
            )
        return video, choose_clip(self.catalog.segments(video.uid), start, duration)

    def clip_manifest(
        self,
        uid: str,
        time_text: str | None,
        duration_text: str | None,
        path: str,
        query: Mapping[str, str],
    ) -> Playlist:
        video, segments = self._clip_segments(uid, time_text, duration_text)
        expires = self.check_access(video, path, query)
        text = _playlist(segments, self._urls(video, segments, expires), ended=True, kind="VOD")
        return Playlist(text, video, segments[0].start, sum(s.duration for s in segments))

    def clip_file(
        self,
        uid: str,
        time_text: str | None,
        duration_text: str | None,
        path: str,
        query: Mapping[str, str],
    ) -> ClipFile:
        """The clip as an MP4 in a temporary file; the caller removes it."""
        video, segments = self._clip_segments(uid, time_text, duration_text)
        self.check_access(video, path, query)
        datas = [self._segment_bytes(segment) for segment in segments]
        handle, name = tempfile.mkstemp(suffix=".mp4", prefix="focal-clip-")
        target = Path(name)
        try:
            with open(handle, "wb"):
                pass
            # PyAV only here: a server without the stream extra still serves manifests.
            import_extra("focal.stream.clips", "clip.mp4").remux_clip(datas, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        duration = sum(s.duration for s in segments)
        self.note_delivered(round(duration * 1000))
        return ClipFile(target, video, segments[0].start, duration)

    # --- segments ------------------------------------------------------------------------

    def _segment_bytes(self, segment: Segment) -> bytes:
        try:
            return self.blobs.get(segment.blob_key)
        except BlobNotFound:
            raise FocalError(
                ErrorKind.NOT_FOUND, "this segment was deleted with its recording"
            ) from None

    def segment(self, uid: str, name: str, path: str, query: Mapping[str, str]) -> bytes:
        video = self.catalog.get_video(uid)
        stem, dot, extension = name.partition(".")
        if video is None or extension != "ts" or not stem.isdigit():
            raise FocalError(ErrorKind.NOT_FOUND, f"no segment {name!r} of video {uid!r}")
        self.check_access(video, path, query)
        segment = self.catalog.segment(video.uid, int(stem))
        if segment is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no segment {name!r} of video {uid!r}")
        data = self._segment_bytes(segment)
        self.note_delivered(round(segment.duration * 1000))
        return data
