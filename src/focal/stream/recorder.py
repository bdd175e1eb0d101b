"""Recording without re-encoding: FLV in, keyframe-aligned MPEG-TS segments out.

A broadcast's FLV bytes reach a `BytePipe`; a thread demuxes them with PyAV and muxes the
very packets (never decoded) into one MPEG-TS segment after another, each starting at a
video keyframe and cut at the first keyframe once it is `segment_seconds` long. Timestamps
are kept as they came, so the segments join into one continuous timeline for HLS.
"""

from __future__ import annotations

import io
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.container
import av.stream

log = logging.getLogger(__name__)

# The demuxer waits for both streams' parameters; FLV announces them in its first tags.
DEMUX_OPTIONS = {"analyzeduration": "2000000", "probesize": "1000000"}


class BytePipe:
    """A blocking file for PyAV's reads, fed from the event loop without blocking it."""

    def __init__(self) -> None:
        self._chunks: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._buffer = bytearray()
        self._ended = False

    def feed(self, data: bytes) -> None:
        if data:
            self._chunks.put(data)

    def end(self) -> None:
        self._chunks.put(b"")

    def read(self, size: int = -1) -> bytes:
        # Whatever has arrived, at once: waiting for a full buffer would add latency.
        if not self._buffer and not self._ended:
            chunk = self._chunks.get()
            if chunk:
                self._buffer += chunk
            else:
                self._ended = True
        while not self._ended:
            try:
                chunk = self._chunks.get_nowait()
            except queue.Empty:
                break
            if not chunk:
                self._ended = True
            else:
                self._buffer += chunk
        size = len(self._buffer) if size < 0 else size
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


@dataclass(frozen=True)
class RecordedSegment:
    sequence: int
    start: float  # seconds from the start of the broadcast
    duration: float
    data: bytes


class SegmentTooLarge(Exception):
    pass


class _SegmentMuxer:
    """One MPEG-TS segment being written, in memory."""

    def __init__(self, templates: list[av.stream.Stream]) -> None:
        self.buffer = io.BytesIO()
        self.container = av.open(self.buffer, "w", format="mpegts")
        self.streams = {
            template.index: self.container.add_stream_from_template(template)
            for template in templates
        }
        self.size = 0

    def mux(self, packet: av.Packet[Any]) -> None:
        index = packet.stream.index
        self.size += packet.size
        packet.stream = self.streams[index]
        self.container.mux(packet)

    def close(self) -> bytes:
        self.container.close()
        return self.buffer.getvalue()


def _seconds(value: int, time_base: Fraction) -> float:
    return float(value * time_base)


def record(
    pipe: BytePipe,
    keep: Callable[[RecordedSegment], None],
    segment_seconds: float,
    max_segment_bytes: int,
) -> None:
    """Demux the pipe to its end, handing each finished segment to `keep` (in this thread).

    Raises SegmentTooLarge when one segment would be over `max_segment_bytes` (its keyframes
    are too far apart for its bitrate); av.FFmpegError when the bytes are not FLV.
    """
    with av.open(pipe, "r", format="flv", options=DEMUX_OPTIONS) as source:
        assert isinstance(source, av.container.InputContainer)
        if not source.streams.video:
            raise av.InvalidDataError(0, "the stream has no video")
        video = source.streams.video[0]
        templates: list[av.stream.Stream] = [video, *source.streams.audio[:1]]
        wanted = {stream.index for stream in templates}
        origin: float | None = None
        muxer: _SegmentMuxer | None = None
        start = end = 0.0
        sequence = 0
        for packet in source.demux(templates):
            if packet.dts is None or packet.stream.index not in wanted:
                continue  # the demuxer's closing empty packets
            time_base = packet.time_base
            pts = packet.pts if packet.pts is not None else packet.dts
            at = _seconds(pts, time_base)
            if origin is None:
                origin = _seconds(packet.dts, time_base)
            if packet.duration:
                end = max(end, at + _seconds(packet.duration, time_base) - origin)
            else:
                end = max(end, at - origin)
            if packet.stream.index == video.index and packet.is_keyframe:
                if muxer is not None and at - origin - start >= segment_seconds:
                    keep(RecordedSegment(sequence, start, at - origin - start, muxer.close()))
                    sequence += 1
                    muxer = None
                if muxer is None:
                    muxer, start = _SegmentMuxer(templates), at - origin
            if muxer is None:
                continue  # audio before the first keyframe has no picture to go with
            muxer.mux(packet)
            if muxer.size > max_segment_bytes:
                raise SegmentTooLarge(
                    f"a segment is over {max_segment_bytes:,} bytes: send keyframes more "
                    "often (a GOP of 2 to 10 s) or at a lower bitrate"
                )
        if muxer is not None:
            keep(RecordedSegment(sequence, start, max(end - start, 0.001), muxer.close()))
