"""Ingest: RTMP publications, authenticated by stream key, recorded into the blob store.

`Ingest` is the RTMP server's `Publishers`: it looks the key up, enforces the limits (inputs
at once, bitrate, H.264 + AAC, GOPs of at most 10 s, segment size), and runs one recorder
thread per publication. A refusal is logged and kept as the input's status, with its reason.
When a publisher goes away, its recording becomes `ready` after the input's timeoutSeconds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import av

from focal.catalog.live_streams import (
    CONNECTED,
    DISCONNECTED,
    LIVE,
    REFUSED,
    LiveInput,
    Segment,
    StreamCatalog,
    Video,
)
from focal.catalog.times import now_micros
from focal.catalog.usage import Metric, UsageStore, day_number
from focal.storage import BlobStore
from focal.stream import flv
from focal.stream.recorder import BytePipe, RecordedSegment, SegmentTooLarge, record
from focal.stream.rtmp import AUDIO, Refused

log = logging.getLogger(__name__)

APP = "live"  # rtmp://host:port/live/<stream key>
MAX_GOP_SECONDS = 10.0
BITRATE_WINDOW_SECONDS = 5.0
# A recording whose ingest stopped without a goodbye (a server killed) is finished once no
# segment has come for this long past its timeout.
ABANDONED_SECONDS = 30


@dataclass(frozen=True)
class IngestLimits:
    max_inputs: int
    max_bitrate_kbps: int
    max_segment_bytes: int
    segment_seconds: float


def segment_key(video: str, sequence: int) -> str:
    return f"stream/{video}/{sequence:08d}.ts"


class Ingest:
    def __init__(
        self,
        catalog: StreamCatalog,
        blobs: BlobStore,
        usage: UsageStore,
        limits: IngestLimits,
    ) -> None:
        self.catalog, self.blobs, self.usage, self.limits = catalog, blobs, usage, limits
        self.active: dict[str, LivePublication] = {}  # by input uid
        self.finishing: dict[str, asyncio.Task[None]] = {}  # by video uid

    async def publish(self, app: str, key: str, peer: str) -> LivePublication:
        if app != APP:
            raise Refused(f"push to the '{APP}' application: rtmp://<host>:<port>/{APP}/<key>")
        live_input = await asyncio.to_thread(self.catalog.input_by_key, key)
        if live_input is None:
            raise Refused("no live input has this stream key")
        if not live_input.enabled:
            await self._refuse(live_input, "the live input is disabled")
        if live_input.uid in self.active:
            await self._refuse(live_input, "the live input is already receiving a stream")
        if len(self.active) >= self.limits.max_inputs:
            await self._refuse(
                live_input, f"this server takes {self.limits.max_inputs} live inputs at once"
            )
        for video in await asyncio.to_thread(self.catalog.videos_of, live_input.uid):
            if video.state == LIVE:
                await self._finish_now(video.uid)  # a reconnect starts a new recording
        video = await asyncio.to_thread(self.catalog.create_video, live_input)
        await asyncio.to_thread(self.catalog.set_input_state, live_input.uid, CONNECTED, None)
        log.info("rtmp %s: live input %s publishing, video %s", peer, live_input.uid, video.uid)
        publication = LivePublication(self, live_input, video)
        self.active[live_input.uid] = publication
        return publication

    async def _refuse(self, live_input: LiveInput, reason: str) -> None:
        await asyncio.to_thread(self.catalog.set_input_state, live_input.uid, REFUSED, reason)
        raise Refused(f"live input {live_input.uid}: {reason}")

    def keep_segment(self, video: Video, recorded: RecordedSegment) -> None:
        """Store a finished segment, then index it (in the recorder's thread): a reader
        finds no segment in the index whose bytes are not whole in the store."""
        key = segment_key(video.uid, recorded.sequence)
        self.blobs.put(key, recorded.data)
        segment = Segment(
            video.uid, recorded.sequence, recorded.start, recorded.duration, len(recorded.data), key
        )
        self.catalog.add_segment(segment)
        self.usage.add(
            Metric.STREAM_MS_RECORDED, [(day_number(now_micros()), round(recorded.duration * 1000))]
        )

    async def ended(self, publication: LivePublication, reason: str | None) -> None:
        self.active.pop(publication.live_input.uid, None)
        state = REFUSED if reason else DISCONNECTED
        uid = publication.video.uid
        await asyncio.to_thread(
            self.catalog.set_input_state, publication.live_input.uid, state, reason
        )
        if not await asyncio.to_thread(self.catalog.segments, uid):
            await asyncio.to_thread(self.catalog.delete_video, uid)  # nothing was recorded
            return
        timeout = publication.live_input.timeout_seconds
        self.finishing[uid] = asyncio.create_task(self._finish_after(uid, timeout))

    async def _finish_after(self, video: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.finishing.pop(video, None)
        await asyncio.to_thread(self.catalog.finish_video, video)

    async def _finish_now(self, video: str) -> None:
        task = self.finishing.pop(video, None)
        if task is not None:
            task.cancel()
        await asyncio.to_thread(self.catalog.finish_video, video)

    def sweep(self) -> int:
        """Finish recordings no server is adding to (their ingest died); returns how many."""
        now = now_micros()
        recording = {publication.video.uid for publication in self.active.values()}
        finished = 0
        for video in self.catalog.videos_in_state(LIVE):
            live_input = self.catalog.get_input(video.live_input)
            timeout = live_input.timeout_seconds if live_input else 0
            quiet = (now - video.modified) / 1e6
            idle = video.uid not in recording and video.uid not in self.finishing
            if idle and quiet > timeout + ABANDONED_SECONDS:
                self.catalog.finish_video(video.uid)
                finished += 1
        return finished

    async def aclose(self) -> None:
        for publication in list(self.active.values()):
            await publication.closed()
        for video in list(self.finishing):
            await self._finish_now(video)


class LivePublication:
    """One broadcast: checks each message, feeds the recorder thread, ends it."""

    def __init__(self, ingest: Ingest, live_input: LiveInput, video: Video) -> None:
        self.ingest, self.live_input, self.video = ingest, live_input, video
        self.pipe = BytePipe()
        self.pipe.feed(flv.HEADER)
        self.failure: str | None = None
        self.first_video: int | None = None
        self.last_keyframe: int | None = None
        self.window_start: int | None = None
        self.window_bytes = 0
        self.done = False
        limits = ingest.limits
        self.recorder = asyncio.get_running_loop().run_in_executor(None, self._record, limits)

    def _record(self, limits: IngestLimits) -> None:
        try:
            record(
                self.pipe,
                lambda segment: self.ingest.keep_segment(self.video, segment),
                limits.segment_seconds,
                limits.max_segment_bytes,
            )
        except SegmentTooLarge as error:
            self.failure = self.failure or str(error)
        except av.FFmpegError as error:  # a refusal already said why, in its own words
            self.failure = self.failure or f"the stream could not be read as H.264 + AAC: {error}"
        except Exception as error:  # the recording stops; the input's status says why
            log.exception("recording of video %s failed", self.video.uid)
            self.failure = self.failure or f"recording failed: {error}"
        finally:
            while self.pipe.read(1 << 20):  # let the feeding side never wait on a dead reader
                pass

    def _refuse(self, reason: str) -> None:
        self.failure = reason
        raise Refused(f"live input {self.live_input.uid}: {reason}")

    async def media(self, kind: int, timestamp: int, payload: bytes) -> None:
        if self.failure:
            raise Refused(f"live input {self.live_input.uid}: {self.failure}")
        if kind == AUDIO:
            codec = flv.audio_codec(payload)
            if codec is not None:
                self._refuse(f"the audio is {codec}: send AAC audio (and H.264 video)")
        else:
            tag = flv.video_tag(payload)
            if tag.codec is not None:
                self._refuse(f"the video is {tag.codec}: send H.264 video (and AAC audio)")
            self._check_gop(timestamp, tag.keyframe)
        self._check_bitrate(timestamp, len(payload))
        self.pipe.feed(flv.tag(kind, timestamp, payload))

    def _check_gop(self, timestamp: int, keyframe: bool) -> None:
        if self.first_video is None:
            self.first_video = timestamp
        since = timestamp - (
            self.last_keyframe if self.last_keyframe is not None else self.first_video
        )
        if since > MAX_GOP_SECONDS * 1000:
            self._refuse(
                f"keyframes are over {MAX_GOP_SECONDS:g} s apart: set a keyframe interval "
                "(GOP) of 2 to 10 s"
            )
        if keyframe:
            self.last_keyframe = timestamp

    def _check_bitrate(self, timestamp: int, size: int) -> None:
        if (
            self.window_start is None
            or timestamp - self.window_start >= BITRATE_WINDOW_SECONDS * 1000
        ):
            self.window_start, self.window_bytes = timestamp, 0
        self.window_bytes += size
        limit = self.ingest.limits.max_bitrate_kbps * 125 * BITRATE_WINDOW_SECONDS  # bytes
        if self.window_bytes > limit:
            self._refuse(f"the bitrate is over {self.ingest.limits.max_bitrate_kbps} kbit/s")

    async def closed(self) -> None:
        if self.done:
            return
        self.done = True
        self.pipe.end()
        await self.recorder
        if self.failure:
            log.warning("live input %s refused: %s", self.live_input.uid, self.failure)
        await self.ingest.ended(self, self.failure)
