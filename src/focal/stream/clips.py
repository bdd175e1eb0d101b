"""Clip files: recorded segments remuxed (never decoded) into one MP4, index at the front.

The MP4 starts at the first segment's keyframe: its timestamps are moved so that frame is at
zero; audio from before it is left out. `movflags=faststart` rewrites the file with its
index (moov) first, so a player starts while the rest downloads; that pass needs a file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream


def _ticks(seconds: Fraction, time_base: Fraction) -> int:
    return round(seconds / time_base)


def remux_clip(segments: Iterable[bytes], path: Path) -> None:
    """Write the MPEG-TS `segments`, in order, as one MP4 at `path`."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        streams: dict[int, av.stream.Stream] = {}
        origin: Fraction | None = None
        for data in segments:
            with av.open(io.BytesIO(data), "r", format="mpegts") as part:
                assert isinstance(part, av.container.InputContainer)
                chosen = [*part.streams.video[:1], *part.streams.audio[:1]]
                if not streams:
                    streams = {s.index: out.add_stream_from_template(s) for s in chosen}
                for packet in part.demux(chosen):
                    if packet.dts is None or packet.stream.index not in streams:
                        continue
                    time_base = packet.time_base
                    at = packet.dts * time_base
                    if origin is None:
                        if packet.stream.type != "video":
                            continue  # nothing before the first picture
                        origin = at
                    if at < origin:
                        continue
                    shift = _ticks(origin, time_base)
                    packet.dts -= shift
                    if packet.pts is not None:
                        packet.pts -= shift
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
