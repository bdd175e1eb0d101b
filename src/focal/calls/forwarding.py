"""The seam around aiortc 1.16 that forwards encoded RTP, never decoding it.

aiortc's receiver reassembles and decodes frames and its sender encodes a track's frames;
an SFU wants neither. Three hooks, each on one instance, do the forwarding instead:

- `Publication.attach(receiver)`: the publisher's `RTCRtpReceiver._handle_rtp_packet` first
  hands each packet (RTX unwrapped) to every subscription, then runs aiortc's own handling
  for statistics, receiver reports, NACKs and PLIs upstream. The decoder thread is stopped
  as soon as the receiver starts, so frames are reassembled but never decoded.
- `Subscription.attach(sender)`: the subscriber's `RTCRtpSender` gets a track that never
  yields a frame (nothing is encoded) and its `send` is wrapped to learn the negotiated
  payload type and header extensions; packets are then rewritten with the subscriber's
  SSRC, payload type, sequence numbers and `mid` and sent on its DTLS transport.
- the sender's `_handle_rtcp_packet`: a NACK is answered from the subscription's short
  history; a PLI or FIR is relayed to the publisher (at most one per `KEYFRAME_INTERVAL`).

Private aiortc names used here (and only here): `RTCRtpReceiver.__stop_decoder`,
`RTCRtpSender.__rtp_header_extensions_map` and the counters its sender reports carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import MediaStreamTrack, RTCRtpCodecParameters, RTCRtpReceiver, RTCRtpSender
from aiortc import clock as rtc_clock
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters, RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtpPacket,
    unwrap_rtx,
)
from av.frame import Frame

log = logging.getLogger(__name__)

HISTORY_SIZE = 512  # packets a subscription keeps for NACKs (about 2 s of 1.5 Mbps video)
KEYFRAME_INTERVAL = 0.3  # seconds between two keyframe requests relayed to a publisher


def is_rtx(codec: RTCRtpCodecParameters) -> bool:
    return codec.mimeType.lower().endswith("/rtx")


def _vp8_keyframe(payload: bytes) -> bool:
    """The first packet of a VP8 keyframe (RFC 7741): start of partition 0, P bit clear."""
    if len(payload) < 2:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x0F:  # S=1 and PID=0: the frame's first packet
        return False
    offset = 1
    if first & 0x80:  # X: extension flags
        flags = payload[1]
        offset = 2
        if flags & 0x80:  # I: picture id, one or two bytes
            offset += 2 if len(payload) > 2 and payload[2] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            offset += 1
        if flags & 0x30:  # T or K
            offset += 1
    return len(payload) > offset and not payload[offset] & 0x01


def _h264_keyframe(payload: bytes) -> bool:
    """A packet starting an IDR picture or carrying its SPS (RFC 6184)."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in (5, 7):
        return True
    if nal_type == 24:  # STAP-A: aggregated NAL units, each after a 16-bit size
        offset = 1
        while offset + 2 < len(payload):
            size = int.from_bytes(payload[offset : offset + 2], "big")
            if payload[offset + 2] & 0x1F in (5, 7):
                return True
            offset += 2 + size
        return False
    if nal_type == 28 and len(payload) > 1:  # FU-A: the start of a fragmented unit
        return bool(payload[1] & 0x80) and payload[1] & 0x1F == 5
    return False


def starts_keyframe(mime_type: str, payload: bytes) -> bool:
    """Whether a video packet starts a keyframe; audio has none and need not wait."""
    kind = mime_type.lower()
    if kind == "video/vp8":
        return _vp8_keyframe(payload)
    if kind == "video/h264":
        return _h264_keyframe(payload)
    return not kind.startswith("video/")


class IdleTrack(MediaStreamTrack):
    """The subscriber sender's track: it never yields, so aiortc's sender encodes nothing."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Frame:
        await self._never
        raise MediaStreamError  # pragma: no cover - the future is never set


Clock = Callable[[], float]


@dataclass
class ForwardingCounters:
    packets: int = 0
    bytes: int = 0  # RTP bytes handed to the transport (before SRTP)
    nacks_answered: int = 0
    keyframe_requests: int = 0


class Publication:
    """One pushed track: the publisher's receiver and the subscriptions it feeds."""

    def __init__(self, kind: str, clock: Clock = time.monotonic) -> None:
        self.kind = kind
        self.clock = clock
        self.subscriptions: list[Subscription] = []
        self.receiver: RTCRtpReceiver | None = None
        self.codecs: dict[int, RTCRtpCodecParameters] = {}  # by payload type, once receiving
        self.negotiated: list[RTCRtpCodecParameters] = []  # from the publisher's offer
        self.rtx_ssrcs: dict[int, int] = {}  # RTX SSRC -> the stream it repairs
        self.media_ssrc: int | None = None
        self.last_media: float | None = None  # clock time of the last packet
        self.packets = 0
        self.keyframes_requested = 0  # PLIs sent to the publisher
        self._last_keyframe_request = -KEYFRAME_INTERVAL

    def attach(self, receiver: RTCRtpReceiver) -> None:
        original_receive = receiver.receive
        original_handle = receiver._handle_rtp_packet

        async def receive(parameters: RTCRtpReceiveParameters) -> None:
            for codec in parameters.codecs:
                if codec.payloadType is not None:
                    self.codecs[codec.payloadType] = codec
            for encoding in parameters.encodings:
                if encoding.rtx and encoding.ssrc is not None:
                    self.rtx_ssrcs[encoding.rtx.ssrc] = encoding.ssrc
            await original_receive(parameters)
            receiver._RTCRtpReceiver__stop_decoder()  # type: ignore[attr-defined]

        async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
            await self.forward(packet)
            await original_handle(packet, arrival_time_ms)

        receiver.receive = receive  # type: ignore[method-assign]
        receiver._handle_rtp_packet = handle  # type: ignore[method-assign]
        self.receiver = receiver

    async def forward(self, packet: RtpPacket) -> None:
        codec = self.codecs.get(packet.payload_type)
        if codec is None:
            return  # not negotiated: aiortc's own handling drops it too
        if is_rtx(codec):
            apt = codec.parameters.get("apt")
            repaired = self.rtx_ssrcs.get(packet.ssrc)
            if not isinstance(apt, int) or apt not in self.codecs or repaired is None:
                return
            if len(packet.payload) < 2:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=repaired)
            codec = self.codecs[apt]
        self.media_ssrc = packet.ssrc
        self.last_media = self.clock()
        self.packets += 1
        # aiortc's send path does not suspend (SRTP, then a datagram): one await each.
        for subscription in tuple(self.subscriptions):
            await subscription.send(packet, codec)

    async def subscribe(self, subscription: Subscription) -> None:
        self.subscriptions.append(subscription)
        if self.kind == "video":
            await self.request_keyframe(force=True)  # a late subscriber starts at once

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self.subscriptions:
            self.subscriptions.remove(subscription)

    async def request_keyframe(self, *, force: bool = False) -> None:
        """A PLI to the publisher, at most one per KEYFRAME_INTERVAL unless `force`."""
        now = self.clock()
        if not force and now - self._last_keyframe_request < KEYFRAME_INTERVAL:
            return
        if self.receiver is None or self.media_ssrc is None:
            return
        self._last_keyframe_request = now
        self.keyframes_requested += 1
        await self.receiver._send_rtcp_pli(self.media_ssrc)


@dataclass
class Subscription:
    """One pulled track: packets of a publication, rewritten for one subscriber's sender."""

    publication: Publication
    sender: RTCRtpSender | None = None
    counters: ForwardingCounters = field(default_factory=ForwardingCounters)
    payload_type: int | None = None
    mime_type: str = ""
    mid: str | None = None
    extensions: HeaderExtensionsMap = field(default_factory=HeaderExtensionsMap)
    history: dict[int, bytes] = field(default_factory=dict)
    waiting_for_keyframe: bool = True
    started: bool = False
    _sequence_offset: int | None = None
    _timestamp_offset: int = field(default_factory=lambda: random.getrandbits(32))
    _start: int = field(default_factory=lambda: random.getrandbits(15))

    def attach(self, sender: RTCRtpSender) -> None:
        """Take over `sender` (before it is started): its negotiated codec decides the
        payload type; once started, the publication's packets flow to it."""
        sender.replaceTrack(IdleTrack(sender.kind))
        original_send = sender.send
        original_rtcp = sender._handle_rtcp_packet

        async def send(parameters: RTCRtpSendParameters) -> None:
            await original_send(parameters)  # aiortc starts a sender once; so does this
            if self.started:
                return
            self.started = True
            main = parameters.codecs[0]
            self.payload_type = main.payloadType
            self.mime_type = main.mimeType
            self.mid = parameters.muxId
            self.extensions.configure(parameters)
            self.sender = sender
            await self.publication.subscribe(self)

        async def handle_rtcp(packet: Any) -> None:
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                for sequence_number in packet.lost:
                    await self._retransmit(sequence_number)
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (
                RTCP_PSFB_PLI,
                RTCP_PSFB_FIR,
            ):
                self.counters.keyframe_requests += 1
                await self.publication.request_keyframe()
            else:
                await original_rtcp(packet)

        sender.send = send  # type: ignore[method-assign]
        sender._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]

    def detach(self) -> None:
        self.publication.unsubscribe(self)
        self.sender = None

    async def send(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        sender = self.sender
        if sender is None or self.payload_type is None:
            return
        if self.waiting_for_keyframe:
            if not starts_keyframe(codec.mimeType, packet.payload):
                return
            self.waiting_for_keyframe = False
        if self._sequence_offset is None:
            self._sequence_offset = self._start - packet.sequence_number
        sequence_number = (packet.sequence_number + self._sequence_offset) & 0xFFFF
        out = RtpPacket(
            payload_type=self.payload_type,
            marker=packet.marker,
            sequence_number=sequence_number,
            timestamp=(packet.timestamp + self._timestamp_offset) & 0xFFFFFFFF,
            ssrc=sender._ssrc,
            payload=packet.payload,
        )
        out.csrc = packet.csrc
        out.extensions.mid = self.mid
        out.extensions.abs_send_time = (rtc_clock.current_ntp_time() >> 14) & 0x00FFFFFF
        out.extensions.audio_level = packet.extensions.audio_level
        data = out.serialize(self.extensions)
        self.history[sequence_number % HISTORY_SIZE] = data
        self.counters.packets += 1
        self.counters.bytes += len(data)
        self._note_sent(sender, out)
        await self._transmit(sender, data)

    def _note_sent(self, sender: RTCRtpSender, packet: RtpPacket) -> None:
        # The sender's own reports (SR) say what was sent: receivers sync audio and video by them.
        sender._RTCRtpSender__ntp_timestamp = rtc_clock.current_ntp_time()  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = packet.timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(packet.payload)  # type: ignore[attr-defined]

    @staticmethod
    async def _transmit(sender: RTCRtpSender, data: bytes) -> None:
        with contextlib.suppress(ConnectionError):  # the subscriber is gone: its sweep comes
            await sender.transport._send_rtp(data)

    async def _retransmit(self, sequence_number: int) -> None:
        data = self.history.get(sequence_number % HISTORY_SIZE)
        sender = self.sender
        if data is None or sender is None:
            return
        if int.from_bytes(data[2:4], "big") != sequence_number:
            return  # overwritten since: too old to repair
        self.counters.nacks_answered += 1
        await self._transmit(sender, data)
