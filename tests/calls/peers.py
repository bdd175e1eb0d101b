"""Test clients of the SFU: aiortc peer connections on 127.0.0.1 with synthetic tracks, which
push and pull through the HTTP API and decode what they receive."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import numpy
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError

from focal.calls.ice import gathering_on, peer_configuration

LOOPBACK = ("127.0.0.1",)


class MovingVideo(VideoStreamTrack):
    """Small frames whose brightness moves, so every frame encodes to something."""

    def __init__(self, width: int = 160, height: int = 120) -> None:
        super().__init__()
        self.width, self.height = width, height
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.count += 1
        plane = numpy.full((self.height, self.width, 3), (self.count * 7) % 256, numpy.uint8)
        plane[:, : self.count % self.width] = 255
        frame = av.VideoFrame.from_ndarray(plane, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """Silence is enough: Opus still sends a packet every 20 ms."""


@dataclass
class Received:
    """Frames decoded on the client side, per kind."""

    frames: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def consume(self, track: MediaStreamTrack) -> None:
        async def run() -> None:
            try:
                while True:
                    frame = await track.recv()
                    assert frame is not None
                    self.frames[track.kind] += 1
            except MediaStreamError:
                pass

        self.tasks.append(asyncio.ensure_future(run()))


class Peer:
    """One client: a PeerConnection and the API calls its app's server would make."""

    def __init__(self, http: httpx.AsyncClient, app_id: str, secret: str) -> None:
        self.http = http
        self.base = f"/calls/v1/apps/{app_id}/sessions"
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.pc = RTCPeerConnection(peer_configuration())
        self.received = Received()
        self.bytes_received = 0
        self.session_id = ""
        self.channels: dict[str, Any] = {}
        # RTP datagrams to lose on purpose: drop(payload type, sequence number) -> lose it
        self.drop: Callable[[int, int], bool] | None = None
        self.pc.on("track", self.received.consume)
        self.control: Any = None

    def _open_control_channel(self) -> None:
        # SCTP in the first offer, for data channels. After the transceivers: aiortc as an
        # offerer with max-bundle stops the shared transport if its channel came first.
        if self.control is None:
            self.control = self.pc.createDataChannel("server-events")

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, self.base + path, json=body, headers=self.headers)

    async def new_session(self, *, with_offer: bool = False) -> str:
        """A session; `with_offer`: with an offer of the data channel transport alone."""
        body = None
        if with_offer:
            self._open_control_channel()
            body = {"sessionDescription": await self._local("offer")}
        answer = await self.call("POST", "/new", body)
        assert answer.status_code == 201, answer.text
        self.session_id = answer.json()["sessionId"]
        if with_offer:
            description = answer.json()["sessionDescription"]
            await self.pc.setRemoteDescription(RTCSessionDescription(**description))
        return self.session_id

    def _count_received(self) -> None:
        # Every datagram the SFU sent that reached this client, before decryption.
        transports = [t.receiver.transport for t in self.pc.getTransceivers()]
        if self.pc.sctp is not None:
            transports.append(self.pc.sctp.transport)
        for dtls in transports:
            ice = dtls.transport
            if getattr(ice, "_counted", False):
                continue
            ice._counted = True
            original = ice._recv

            async def recv(original: Any = original) -> bytes:
                while True:
                    data: bytes = await original()
                    self.bytes_received += len(data)
                    if not self._lost(data):
                        return data

            ice._recv = recv

    async def _local(self, kind: str) -> dict[str, str]:
        made = await (self.pc.createOffer() if kind == "offer" else self.pc.createAnswer())
        with gathering_on(LOOPBACK):
            await self.pc.setLocalDescription(made)
        self._count_received()
        return {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}

    async def push(
        self, tracks: dict[str, MediaStreamTrack], codec: str | None = None
    ) -> dict[str, Any]:
        """Push each track under its name (video in `codec` if given); the SFU's answer is
        applied."""
        mids = []
        for name, track in tracks.items():
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            if codec is not None and track.kind == "video":
                capabilities = RTCRtpSender.getCapabilities("video").codecs
                chosen = [c for c in capabilities if c.mimeType.lower() == codec.lower()]
                transceiver.setCodecPreferences(chosen[:1])
            mids.append((name, transceiver))
        self._open_control_channel()
        offer = await self._local("offer")
        body = {
            "sessionDescription": offer,
            "tracks": [{"location": "local", "mid": t.mid, "trackName": name} for name, t in mids],
        }
        answer = await self.call("POST", f"/{self.session_id}/tracks/new", body)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(**result["sessionDescription"]))
        return dict(result)

    async def pull(self, session_id: str, names: list[str]) -> dict[str, Any]:
        """Pull tracks of another session; the SFU's offer is answered through renegotiate."""
        body = {
            "tracks": [
                {"location": "remote", "sessionId": session_id, "trackName": name} for name in names
            ]
        }
        offered = await self.call("POST", f"/{self.session_id}/tracks/new", body)
        assert offered.status_code == 200, offered.text
        result = offered.json()
        if result.get("requiresImmediateRenegotiation"):
            await self.apply_offer(result["sessionDescription"])
        return dict(result)

    async def apply_offer(self, offer: dict[str, str]) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(**offer))
        answer = await self._local("answer")
        done = await self.call(
            "PUT", f"/{self.session_id}/renegotiate", {"sessionDescription": answer}
        )
        assert done.status_code == 200, done.text

    def _lost(self, data: bytes) -> bool:
        """Lose an RTP datagram on purpose (`drop`), before SRTP sees it: the header of an
        SRTP packet is in the clear (payload type and sequence number)."""
        if self.drop is None or len(data) < 12 or not 128 <= data[0] < 192:
            return False
        payload_type = data[1] & 0x7F
        if 64 <= payload_type < 96:  # RTCP (RFC 5761)
            return False
        return self.drop(payload_type, int.from_bytes(data[2:4], "big"))

    async def close(self) -> None:
        await self.pc.close()
        for task in self.received.tasks:
            task.cancel()


async def until(condition: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    """Wait for `condition`, polling; fails naming `what` after a generous bound."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
