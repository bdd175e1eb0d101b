"""FLV: how RTMP's audio and video messages are framed, and what their first bytes say.

RTMP carries FLV tag bodies; wrapping them back into an FLV byte stream lets FFmpeg's FLV
demuxer (through PyAV) give the packets with their timestamps and codec parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIO_TAG, VIDEO_TAG = 8, 9
AVC_CODEC = 7  # FLV video codec id of H.264
AAC_FORMAT = 10  # FLV sound format of AAC
VIDEO_CODECS = {
    2: "Sorenson H.263",
    3: "Screen video",
    4: "VP6",
    5: "VP6 alpha",
    6: "Screen video 2",
    7: "H.264",
    12: "HEVC",
}
AUDIO_FORMATS = {
    0: "PCM",
    1: "ADPCM",
    2: "MP3",
    3: "PCM",
    4: "Nellymoser",
    5: "Nellymoser",
    6: "Nellymoser",
    7: "G.711",
    8: "G.711",
    10: "AAC",
    11: "Speex",
    14: "MP3",
    15: "device-specific",
}
HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + bytes(4)  # audio and video; first PreviousTagSize


def tag(kind: int, timestamp: int, body: bytes) -> bytes:
    """One FLV tag and the PreviousTagSize after it."""
    size = len(body)
    head = (
        bytes([kind])
        + size.to_bytes(3, "big")
        + (timestamp & 0xFFFFFF).to_bytes(3, "big")
        + bytes([(timestamp >> 24) & 0xFF])
        + bytes(3)
    )
    return head + body + (size + 11).to_bytes(4, "big")


@dataclass(frozen=True)
class VideoTag:
    codec: str | None  # None: H.264
    keyframe: bool  # a coded keyframe (not the decoder configuration)


def video_tag(body: bytes) -> VideoTag:
    first = body[0]
    if first & 0x80:  # enhanced RTMP: a FourCC (HEVC, AV1, VP9) follows
        fourcc = body[1:5].decode("ascii", "replace")
        return VideoTag(f"{fourcc} (enhanced RTMP)", False)
    codec_id = first & 0x0F
    if codec_id != AVC_CODEC:
        return VideoTag(VIDEO_CODECS.get(codec_id, f"codec {codec_id}"), False)
    nalus = len(body) > 1 and body[1] == 1
    return VideoTag(None, (first >> 4) == 1 and nalus)


def audio_codec(body: bytes) -> str | None:
    """None for AAC, else the format's name."""
    sound_format = body[0] >> 4
    if sound_format == AAC_FORMAT:
        return None
    return AUDIO_FORMATS.get(sound_format, f"format {sound_format}")
