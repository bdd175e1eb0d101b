"""Test broadcasts: a test pattern with a tone, encoded once, pushed over RTMP in real time."""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import av.container


def encode_pattern(
    path: Path,
    seconds: float,
    *,
    size: str = "320x180",
    rate: int = 25,
    gop_seconds: float = 2.0,
    bitrate: int = 0,
    codec: str = "libx264",
    preset: str = "veryfast",
) -> Path:
    """An FLV file of `seconds` of testsrc2 and a 440 Hz tone: closed GOPs of `gop_seconds`."""
    width, height = (int(side) for side in size.split("x"))
    gop = round(rate * gop_seconds)
    with (
        av.open(f"testsrc2=size={size}:rate={rate}", format="lavfi") as pictures,
        av.open("sine=frequency=440:sample_rate=44100", format="lavfi") as tone,
        av.open(str(path), "w", format="flv") as out,
    ):
        video = out.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = gop
        if bitrate:
            video.bit_rate = bitrate
        if codec == "libx264":
            x264 = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"
            if bitrate:  # a live encoder's constant bitrate: capped, with a 2 s buffer
                x264 += f":vbv-maxrate={bitrate // 1000}:vbv-bufsize={bitrate // 500}"
            video.options = {"preset": preset, "x264-params": x264}
        audio = out.add_stream("aac", rate=44100)
        audio.bit_rate = 64_000
        pictures_left = pictures.decode(video=0)
        sounds = tone.decode(audio=0)
        frames, samples = 0, 0
        # Interleaved by time, as an encoder sends them.
        while frames < seconds * rate or samples < seconds * 44100:
            if frames / rate <= samples / 44100 and frames < seconds * rate:
                frame = next(pictures_left)
                frame.pts, frame.time_base = frames, Fraction(1, rate)
                frame.pict_type = av.video.frame.PictureType.NONE
                out.mux(video.encode(frame))
                frames += 1
            else:
                sound = next(sounds)
                sound.pts, samples = samples, samples + sound.samples
                out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return path


def push(
    path: Path,
    url: str,
    *,
    speed: float = 1.0,
    stop_after: float | None = None,
    report: bool = False,
) -> None:
    """Send the file's packets to `url` (rtmp://…) as a live encoder would: in real time.
    `report`: print `keyframe <pts> <unix time>` as each keyframe is sent (for the bench)."""
    with (
        av.open(str(path)) as source,
        av.open(url, "w", format="flv") as out,
    ):
        assert isinstance(source, av.container.InputContainer)
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        began = time.monotonic()
        for packet in source.demux():
            if packet.dts is None:
                continue
            at = float(packet.dts * packet.time_base)
            if stop_after is not None and at >= stop_after:
                break
            wait = at / speed - (time.monotonic() - began)
            if wait > 0:
                time.sleep(wait)
            keyframe = packet.is_keyframe and packet.stream.type == "video"
            pts = float((packet.pts or 0) * packet.time_base)
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
            if report and keyframe:
                print(f"keyframe {pts:.3f} {time.time():.6f}", flush=True)


def push_command(
    path: Path,
    url: str,
    *,
    speed: float = 1.0,
    stop_after: float | None = None,
    report: bool = False,
) -> list[str]:
    """The command that pushes in a process of its own, as an encoder is: PyAV holds the
    interpreter's lock while it connects, so a push in the server's process would stall it."""
    command = [sys.executable, __file__, str(path), url, str(speed)]
    command += ["--report"] if report else []
    return command if stop_after is None else [*command, str(stop_after)]


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--report"]
    push(
        Path(arguments[0]),
        arguments[1],
        speed=float(arguments[2]),
        stop_after=float(arguments[3]) if len(arguments) > 3 else None,
        report="--report" in sys.argv,
    )
