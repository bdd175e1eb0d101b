"""Where a video keyframe starts, read from RTP payloads as the SFU sees them (VP8, H.264)."""

from __future__ import annotations

from focal.calls.forwarding import starts_keyframe


def test_vp8_keyframes_start_partition_0_with_the_p_bit_clear() -> None:
    assert starts_keyframe("video/VP8", bytes([0x10, 0x00]))  # S=1, PID=0, P=0
    assert not starts_keyframe("video/VP8", bytes([0x10, 0x01]))  # an inter frame
    assert not starts_keyframe("video/VP8", bytes([0x00, 0x00]))  # not a frame's first packet
    assert not starts_keyframe("video/VP8", bytes([0x11, 0x00]))  # another partition
    assert not starts_keyframe("video/VP8", b"\x10")
    # X with a two-byte picture id, TL0PICIDX and TID/KEYIDX before the VP8 header.
    extended = bytes([0x90, 0xF0, 0x80, 0x01, 0x05, 0x20, 0x00])
    assert starts_keyframe("video/VP8", extended)
    assert not starts_keyframe("video/VP8", extended[:-1] + b"\x01")
    one_byte_id = bytes([0x90, 0x80, 0x05, 0x00])
    assert starts_keyframe("video/VP8", one_byte_id)


def test_h264_keyframes_are_idr_or_sps_alone_aggregated_or_fragmented() -> None:
    assert starts_keyframe("video/H264", bytes([0x65, 0x88]))  # IDR slice
    assert starts_keyframe("video/H264", bytes([0x67, 0x42]))  # SPS
    assert not starts_keyframe("video/H264", bytes([0x41, 0x9A]))  # a non-IDR slice
    stap = bytes([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE])
    assert starts_keyframe("video/H264", stap)
    assert not starts_keyframe("video/H264", bytes([0x78, 0x00, 0x02, 0x41, 0x9A]))
    assert starts_keyframe("video/H264", bytes([0x7C, 0x85, 0x00]))  # FU-A start of an IDR
    assert not starts_keyframe("video/H264", bytes([0x7C, 0x05, 0x00]))  # its middle
    assert not starts_keyframe("video/H264", b"")


def test_audio_needs_no_keyframe() -> None:
    assert starts_keyframe("audio/opus", b"\x00")
