"""An RTMP server for publishing clients (ffmpeg, OBS): handshake, chunk stream, commands.

Only what a publisher needs: the plain handshake, the chunk stream with its four header
forms and extended timestamps, the connect / createStream / publish commands, and
acknowledgements. Audio and video messages are handed, as they are (FLV tag bodies), to the
`Publication` that `Publishers.publish` opened for the stream key; nothing is decoded here.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from focal.stream import amf0

log = logging.getLogger(__name__)

HANDSHAKE_SIZE = 1536
SET_CHUNK_SIZE, ABORT, ACKNOWLEDGEMENT, USER_CONTROL, WINDOW_ACK_SIZE, PEER_BANDWIDTH = (
    1,
    2,
    3,
    4,
    5,
    6,
)
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20
OUT_CHUNK_SIZE = 4096
WINDOW = 2_500_000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a bound on one message: a header can claim 16 MiB
HANDSHAKE_SECONDS = 10.0  # a client that does not finish the handshake and publish in time


class Refused(Exception):
    """A publication is not accepted (or no longer): the reason is told to the client."""


class Publication(Protocol):
    async def media(self, kind: int, timestamp: int, payload: bytes) -> None:
        """An audio (8) or video (9) message, FLV tag body; raises Refused to end it."""
        ...

    async def closed(self) -> None: ...


class Publishers(Protocol):
    async def publish(self, app: str, key: str, peer: str) -> Publication:
        """The publication of the stream `key`; raises Refused."""
        ...


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    kind: int = 0
    stream_id: int = 0
    extended: bool = False
    body: bytearray = field(default_factory=bytearray)


class Connection:
    """One client's connection, from handshake to close."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        publishers: Publishers,
    ) -> None:
        self.reader, self.writer, self.publishers = reader, writer, publishers
        self.in_chunk_size = 128
        self.streams: dict[int, _ChunkStream] = {}
        self.received = 0
        self.acknowledged = 0
        self.window = WINDOW
        self.app = ""
        self.publication: Publication | None = None
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    async def _read(self, count: int) -> bytes:
        data = await self.reader.readexactly(count)
        self.received += count
        return data

    async def run(self) -> None:
        try:
            await asyncio.wait_for(self._handshake(), HANDSHAKE_SECONDS)
            while True:
                kind, timestamp, stream_id, body = await self._message()
                await self._dispatch(kind, timestamp, stream_id, body)
                await self._acknowledge()
        except Refused as refusal:
            log.warning("rtmp %s: publication refused: %s", self.peer, refusal)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the client went away: the publication ends below
        except (ValueError, amf0.AMFError) as error:
            log.warning("rtmp %s: protocol error, connection closed: %s", self.peer, error)
        finally:
            if self.publication is not None:
                await self.publication.closed()
            self.writer.close()

    async def _handshake(self) -> None:
        c0c1 = await self._read(1 + HANDSHAKE_SIZE)
        if c0c1[0] != 3:
            raise ValueError(f"RTMP version {c0c1[0]} is not supported (3 is)")
        s1 = bytes(8) + os.urandom(HANDSHAKE_SIZE - 8)  # the plain handshake: version 0
        self.writer.write(b"\x03" + s1 + c0c1[1:])
        await self.writer.drain()
        await self._read(HANDSHAKE_SIZE)  # C2 echoes S1: nothing to check in plain mode

    async def _message(self) -> tuple[int, int, int, bytes]:
        """The next whole message: (type, timestamp ms, message stream id, body)."""
        while True:
            first = (await self._read(1))[0]
            form, chunk_id = first >> 6, first & 0x3F
            if chunk_id == 0:
                chunk_id = 64 + (await self._read(1))[0]
            elif chunk_id == 1:
                extra = await self._read(2)
                chunk_id = 64 + extra[0] + 256 * extra[1]
            stream = self.streams.setdefault(chunk_id, _ChunkStream())
            starting = not stream.body
            if form <= 2:
                header = await self._read((11, 7, 3)[form])
                stamp = int.from_bytes(header[0:3], "big")
                stream.extended = stamp == 0xFFFFFF
                if form <= 1:
                    stream.length = int.from_bytes(header[3:6], "big")
                    stream.kind = header[6]
                if form == 0:
                    stream.stream_id = int.from_bytes(header[7:11], "little")
                if stream.extended:
                    stamp = int.from_bytes(await self._read(4), "big")
                if form == 0:
                    stream.timestamp, stream.delta = stamp, 0
                else:
                    stream.delta = stamp
                    stream.timestamp += stamp
            else:
                if stream.extended:
                    await self._read(4)  # repeated on every chunk of such a message
                if starting:
                    stream.timestamp += stream.delta
            if stream.length > MAX_MESSAGE_BYTES:
                raise ValueError(f"a message of {stream.length:,} bytes is over the limit")
            take = min(self.in_chunk_size, stream.length - len(stream.body))
            stream.body += await self._read(take)
            if len(stream.body) >= stream.length:
                body, stream.body = bytes(stream.body), bytearray()
                return stream.kind, stream.timestamp & 0xFFFFFFFF, stream.stream_id, body

    async def _dispatch(self, kind: int, timestamp: int, stream_id: int, body: bytes) -> None:
        if kind == SET_CHUNK_SIZE:
            self.in_chunk_size = int.from_bytes(body[:4], "big") & 0x7FFFFFFF
            if not 1 <= self.in_chunk_size <= MAX_MESSAGE_BYTES:
                raise ValueError(f"chunk size {self.in_chunk_size} is out of range")
        elif kind == WINDOW_ACK_SIZE:
            self.window = max(1, int.from_bytes(body[:4], "big"))
        elif kind == ABORT:
            self.streams.pop(int.from_bytes(body[:4], "big"), None)
        elif kind in (AUDIO, VIDEO):
            if self.publication is None:
                raise Refused("media before publish")
            if body:
                await self.publication.media(kind, timestamp, body)
        elif kind in (COMMAND_AMF0, COMMAND_AMF3):
            await self._command(amf0.decode(body[1:] if kind == COMMAND_AMF3 else body))

    async def _command(self, values: list[Any]) -> None:
        if len(values) < 2:
            return
        name, transaction = values[0], values[1]
        if name == "connect":
            options = values[2] if len(values) > 2 and isinstance(values[2], dict) else {}
            self.app = str(options.get("app", "")).strip("/")
            self._send(2, WINDOW_ACK_SIZE, WINDOW.to_bytes(4, "big"))
            self._send(2, PEER_BANDWIDTH, WINDOW.to_bytes(4, "big") + b"\x02")
            self._send(2, SET_CHUNK_SIZE, OUT_CHUNK_SIZE.to_bytes(4, "big"))
            self._command_reply(
                "_result",
                transaction,
                {"fmsVer": "FMS/3,0,1,123", "capabilities": 31},
                {
                    "level": "status",
                    "code": "NetConnection.Connect.Success",
                    "description": "Connection succeeded.",
                    "objectEncoding": 0,
                },
            )
        elif name == "createStream":
            self._command_reply("_result", transaction, None, 1)
        elif name in ("releaseStream", "FCPublish", "FCUnpublish"):
            self._command_reply("_result", transaction, None, None)
        elif name == "publish":
            key = str(values[3]) if len(values) > 3 and values[3] is not None else ""
            await self._publish(key.split("?", 1)[0])
        elif name == "deleteStream" and self.publication is not None:
            publication, self.publication = self.publication, None
            await publication.closed()
        await self.writer.drain()

    async def _publish(self, key: str) -> None:
        if self.publication is not None:
            raise Refused("this connection already publishes a stream")
        try:
            self.publication = await self.publishers.publish(self.app, key, self.peer)
        except Refused as refusal:
            self._status("error", "NetStream.Publish.BadName", str(refusal))
            await self.writer.drain()
            raise
        self._send(2, USER_CONTROL, b"\x00\x00" + (1).to_bytes(4, "big"))  # stream begin
        self._status("status", "NetStream.Publish.Start", f"{key[:4]}… is now published")

    def _status(self, level: str, code: str, description: str) -> None:
        info = {"level": level, "code": code, "description": description}
        self._send(5, COMMAND_AMF0, amf0.encode("onStatus", 0, None, info), stream_id=1)

    def _command_reply(self, name: str, transaction: Any, *values: Any) -> None:
        self._send(3, COMMAND_AMF0, amf0.encode(name, transaction, *values))

    async def _acknowledge(self) -> None:
        if self.received - self.acknowledged >= self.window:
            self.acknowledged = self.received
            self._send(2, ACKNOWLEDGEMENT, (self.received & 0xFFFFFFFF).to_bytes(4, "big"))
            await self.writer.drain()

    def _send(self, chunk_id: int, kind: int, body: bytes, stream_id: int = 0) -> None:
        header = bytes([chunk_id]) + bytes(3) + len(body).to_bytes(3, "big") + bytes([kind])
        parts = [header + stream_id.to_bytes(4, "little")]
        for start in range(0, len(body), OUT_CHUNK_SIZE):
            if start:
                parts.append(bytes([0xC0 | chunk_id]))  # form 3: a continuation
            parts.append(body[start : start + OUT_CHUNK_SIZE])
        self.writer.write(b"".join(parts))


async def serve_rtmp(publishers: Publishers, host: str, port: int) -> asyncio.Server:
    """Listen for publishing clients; each connection is served in its own task."""

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Connection(reader, writer, publishers).run()

    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] = connected
    return await asyncio.start_server(handler, host, port)
