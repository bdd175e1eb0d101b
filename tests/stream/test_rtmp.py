"""RTMP's chunk stream and AMF0 as clients send them, and ingest's checks on each message."""

from __future__ import annotations

import asyncio
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from focal.catalog import UsageStore, open_catalog
from focal.catalog.live_streams import REFUSED, StreamCatalog
from focal.storage import LocalBlobStore
from focal.stream import amf0
from focal.stream.ingest import Ingest, IngestLimits
from focal.stream.inputs import DEFAULTS
from focal.stream.rtmp import AUDIO, VIDEO, Connection, Refused
from stream.asyncio_thread import run_in_thread


class _Writer:
    def __init__(self) -> None:
        self.sent = bytearray()

    def write(self, data: bytes) -> None:
        self.sent += data

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1)


def _connection(data: bytes) -> Connection:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return Connection(reader, _Writer(), publishers=None)  # type: ignore[arg-type]


def test_chunk_headers_of_every_form_and_extended_timestamps_make_whole_messages() -> None:
    body = bytes(range(200))
    stream = (
        # form 0 on chunk stream 70 (two-byte basic header), extended timestamp 0x01000000
        bytes([0x00, 70 - 64])
        + b"\xff\xff\xff"
        + (200).to_bytes(3, "big")
        + bytes([VIDEO])
        + (1).to_bytes(4, "little")
        + (0x01000000).to_bytes(4, "big")
        + body[:128]
        + bytes([0xC0, 70 - 64])
        + (0x01000000).to_bytes(4, "big")
        + body[128:]  # form 3
        # form 1 (delta 40, new length and type), then form 2 (delta 20) on chunk stream 4
        + bytes([0x44])
        + (40).to_bytes(3, "big")
        + (3).to_bytes(3, "big")
        + bytes([AUDIO])
        + b"abc"
        + bytes([0x84])
        + (20).to_bytes(3, "big")
        + b"def"
        + bytes([0xC4])
        + b"ghi"  # form 3 starting a message: the same delta again
    )

    async def read_all() -> list[tuple[int, int, int, bytes]]:
        connection = _connection(stream)
        return [await connection._message() for _ in range(4)]

    messages: list[tuple[int, int, int, bytes]] = []

    async def collect() -> None:
        messages.extend(await read_all())

    run_in_thread(collect)
    assert messages[0] == (VIDEO, 0x01000000, 1, body)
    assert [m[1] for m in messages[1:]] == [40, 60, 80]
    assert [m[3] for m in messages[1:]] == [b"abc", b"def", b"ghi"]


def test_amf0_reads_what_encoders_send_and_writes_replies() -> None:
    data = (
        amf0.encode("connect", 1, {"app": "live", "tcUrl": "rtmp://h/live"}, None, True)
        + bytes([amf0.ECMA_ARRAY])
        + (1).to_bytes(4, "big")
        + b"\x00\x01a"
        + amf0.encode(2.5)
        + b"\x00\x00\x09"
        + bytes([amf0.STRICT_ARRAY])
        + (2).to_bytes(4, "big")
        + amf0.encode(1, "x")
        + bytes([amf0.DATE])
        + struct.pack(">d", 5.0)
        + b"\x00\x00"
        + bytes([amf0.LONG_STRING])
        + (2).to_bytes(4, "big")
        + b"ok"
        + bytes([amf0.UNDEFINED])
    )
    assert amf0.decode(data) == [
        "connect",
        1.0,
        {"app": "live", "tcUrl": "rtmp://h/live"},
        None,
        True,
        {"a": 2.5},
        [1.0, "x"],
        5.0,
        "ok",
        None,
    ]
    for broken in (b"\x00\x00", b"\x02\x00\x05ab", b"\x0d", b"\x02\x00"):
        with pytest.raises(amf0.AMFError):
            amf0.decode(broken)
    with pytest.raises(TypeError):
        amf0.encode(object())


def _tag(keyframe: bool) -> bytes:
    return bytes([0x17 if keyframe else 0x27, 1, 0, 0, 0]) + b"\x00\x00\x00\x01\x65"


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([(VIDEO, 0, _tag(True)), (VIDEO, 10_001, _tag(False))], "keyframes are over 10 s apart"),
        ([(VIDEO, 0, _tag(False)), (VIDEO, 10_500, _tag(False))], "keyframes are over 10 s"),
        ([(AUDIO, 0, b"\x2f\x00")], "the audio is MP3: send AAC audio"),
        ([(VIDEO, 0, b"\x9chvc1")], "the video is hvc1 (enhanced RTMP)"),
        ([(VIDEO, t * 100, _tag(t == 0) + bytes(20_000)) for t in range(10)], "bitrate is over"),
    ],
)
def test_ingest_refuses_what_it_cannot_record_and_says_why(
    tmp_path: Path, messages: list[tuple[int, int, bytes]], reason: str
) -> None:
    engine = open_catalog(f"sqlite:///{tmp_path / 'focal.db'}")
    catalog = StreamCatalog(engine)
    live_input = catalog.create_input(dict(DEFAULTS))
    limits = IngestLimits(
        max_inputs=1, max_bitrate_kbps=100, max_segment_bytes=1 << 20, segment_seconds=2
    )
    ingest = Ingest(catalog, LocalBlobStore(tmp_path / "blobs"), UsageStore(engine), limits)

    async def publish() -> None:
        with pytest.raises(Refused, match="push to the 'live' application"):
            await ingest.publish("other", live_input.stream_key, "peer")
        with pytest.raises(Refused, match="no live input has this stream key"):
            await ingest.publish("live", "wrong", "peer")
        publication = await ingest.publish("live", live_input.stream_key, "peer")
        with pytest.raises(Refused, match="already receiving"):
            await ingest.publish("live", live_input.stream_key, "peer")
        try:
            with pytest.raises(Refused, match=re.escape(reason)):
                for kind, timestamp, payload in messages:
                    await publication.media(kind, timestamp, payload)
            with pytest.raises(Refused):  # and nothing more is taken
                await publication.media(VIDEO, 0, _tag(True))
        finally:
            await publication.closed()  # as the connection does when it ends
            await ingest.aclose()

    run_in_thread(publish)
    refused = catalog.get_input(live_input.uid)
    assert refused is not None and refused.state == REFUSED and reason in (refused.reason or "")
    engine.dispose()
