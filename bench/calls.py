"""`python -m bench --scenario calls`: the SFU forwarding ~1.5 Mbps of video and Opus-sized
audio from one publisher to growing numbers of subscribers, all on 127.0.0.1.

The SFU is `focal calls serve` in its own process (its CPU and memory read from /proc).
The clients live in this process and never encode or decode: the publisher sends RTP of
the real sizes and rates on its negotiated SSRC and payload type, the first packet of each
"frame" marked as a VP8 keyframe start (the SFU only reads that descriptor) and carrying
its send time; subscribers decrypt each datagram with their SRTP session, read the send
time (the SFU leaves payloads untouched) and drop it, so latency is SFU-added plus loopback.

Reference, in the same run: the floor of any forwarder in Python on this machine, one SRTP
protect and one UDP datagram per packet, measured in this process. Figures are ratios to
it as well as absolute: the machine is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from bench.procfs import cpu_seconds, status_mib
from focal.calls.forwarding import IdleTrack
from focal.calls.ice import gathering_on, peer_configuration

TOKEN = "bench-calls-token"
LOOPBACK = ("127.0.0.1",)
VIDEO_BPS = 1_500_000
VIDEO_FPS = 30
VIDEO_PACKET = 1_100  # payload bytes: about 170 packets a second at 1.5 Mbps
AUDIO_PACKET = 120  # Opus at ~48 kbps, one packet per 20 ms
SUBSCRIBERS = (1, 4, 8, 16)
WINDOW_SECONDS = 5.0
IDLE_SESSIONS = 40  # sessions made to measure memory per session


@dataclass
class Received:
    packets: int = 0
    latencies_ns: list[int] = field(default_factory=list)


class BenchPeer:
    """A client of the SFU that pushes raw RTP or counts what it receives."""

    def __init__(self, http: httpx.AsyncClient, base: str) -> None:
        self.http, self.base = http, base
        self.pc = RTCPeerConnection(peer_configuration())
        self.session_id = ""
        self.received = Received()
        self.senders: list[tuple[Any, Any]] = []  # (sender, its send parameters)
        self.rtp_state = {"video": [1000, 0], "audio": [1000, 0]}  # sequence, timestamp

    async def new_session(self) -> None:
        self.session_id = (await self.http.post(f"{self.base}/new")).json()["sessionId"]

    async def _local(self, kind: str) -> dict[str, str]:
        made = await (self.pc.createOffer() if kind == "offer" else self.pc.createAnswer())
        with gathering_on(LOOPBACK):
            await self.pc.setLocalDescription(made)
        return {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}

    async def push(self) -> None:
        tracks = []
        for kind in ("video", "audio"):
            transceiver = self.pc.addTransceiver(kind, direction="sendonly")
            sender = transceiver.sender
            sender.replaceTrack(IdleTrack(kind))
            original = sender.send

            async def send(parameters: Any, sender: Any = sender, original: Any = original) -> None:
                await original(parameters)
                self.senders.append((sender, parameters))

            sender.send = send
            tracks.append((kind, transceiver))
        offer = await self._local("offer")
        body = {
            "sessionDescription": offer,
            "tracks": [{"location": "local", "mid": t.mid, "trackName": k} for k, t in tracks],
        }
        answer = (
            await self.http.post(f"{self.base}/{self.session_id}/tracks/new", json=body)
        ).json()
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer["sessionDescription"]))

    async def pull(self, publisher: str) -> None:
        body = {
            "tracks": [
                {"location": "remote", "sessionId": publisher, "trackName": name}
                for name in ("video", "audio")
            ]
        }
        offer = (
            await self.http.post(f"{self.base}/{self.session_id}/tracks/new", json=body)
        ).json()
        await self.pc.setRemoteDescription(RTCSessionDescription(**offer["sessionDescription"]))
        answer = await self._local("answer")
        await self.http.put(
            f"{self.base}/{self.session_id}/renegotiate", json={"sessionDescription": answer}
        )
        self._intercept_rtp()

    def _intercept_rtp(self) -> None:
        dtls = self.pc.getTransceivers()[0].receiver.transport
        ice = dtls.transport
        original = ice._recv

        async def recv() -> bytes:
            while True:
                data: bytes = await original()
                if len(data) < 12 or not 128 <= data[0] < 192 or 64 <= data[1] & 0x7F < 96:
                    return data  # DTLS, STUN or RTCP: aiortc's own handling
                try:
                    plain = dtls._rx_srtp.unprotect(data)
                except Exception:
                    continue
                self.received.packets += 1
                offset = 12 + 4 * (plain[0] & 0x0F)
                if plain[0] & 0x10:
                    offset += 4 + 4 * int.from_bytes(plain[offset + 2 : offset + 4], "big")
                if plain[1] & 0x7F != 111 and plain[offset + 1] == 0x4E:  # our marked packet
                    sent = struct.unpack_from("!Q", plain, offset + 2)[0]
                    self.received.latencies_ns.append(time.perf_counter_ns() - sent)

        ice._recv = recv


def _marked(head: bytes, stamp: bytes) -> bytes:
    return head[:1] + b"\x4e" + stamp + bytes(VIDEO_PACKET - 10)


async def publish(peer: BenchPeer, stop: asyncio.Event) -> int:
    """Send video and audio at their rates until `stop`; the packets sent."""
    while len(peer.senders) < 2:
        await asyncio.sleep(0.05)
    by_kind = {sender.kind: (sender, params) for sender, params in peer.senders}
    state = peer.rtp_state  # sequence numbers go on across steps: SRTP refuses repeats
    packets_per_frame = max(1, round(VIDEO_BPS / 8 / VIDEO_FPS / VIDEO_PACKET))
    sent = 0
    tick = 0
    started = time.perf_counter()
    while not stop.is_set():
        tick += 1  # 10 ms ticks: a video frame every 3 or 4, an audio packet every 2
        if tick % 2 == 0:
            sent += await _send(by_kind["audio"], state["audio"], [bytes(AUDIO_PACKET)], 960)
        if tick * VIDEO_FPS // 100 != (tick - 1) * VIDEO_FPS // 100:
            payloads = [_marked(b"\x10\x00", struct.pack("!Q", time.perf_counter_ns()))]
            payloads += [b"\x00" + bytes(VIDEO_PACKET - 1)] * (packets_per_frame - 1)
            sent += await _send(by_kind["video"], state["video"], payloads, 3000)
        delay = started + tick * 0.01 - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))
    return sent


async def _send(pair: tuple[Any, Any], state: list[int], payloads: list[bytes], step: int) -> int:
    sender, params = pair
    extensions = sender._RTCRtpSender__rtp_header_extensions_map
    state[1] += step
    for index, payload in enumerate(payloads):
        packet = RtpPacket(
            payload_type=params.codecs[0].payloadType,
            marker=int(index == len(payloads) - 1),
            sequence_number=state[0] & 0xFFFF,
            timestamp=state[1] & 0xFFFFFFFF,
            ssrc=sender._ssrc,
            payload=payload,
        )
        packet.extensions.mid = params.muxId
        state[0] += 1
        with contextlib.suppress(ConnectionError):
            await sender.transport._send_rtp(packet.serialize(extensions))
    return len(payloads)


def floor_seconds_per_packet(count: int = 20_000) -> float:
    """CPU of the least a Python forwarder does per packet: SRTP protect, one datagram."""
    key = bytes(30)
    session = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packet = RtpPacket(
        payload_type=96, sequence_number=1, timestamp=1, ssrc=1, payload=bytes(VIDEO_PACKET)
    )
    start = time.process_time()
    for number in range(count):
        packet.sequence_number = number & 0xFFFF
        out.sendto(session.protect(packet.serialize()), receiver.getsockname())
        with contextlib.suppress(BlockingIOError):
            receiver.recv(2048)
    return (time.process_time() - start) / count


def percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1e6 if ordered else 0.0


async def measure(url: str, pid: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
        made = await admin.post(
            "/calls/v1/apps", json={"name": "bench"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        app = made.json()["result"]
    headers = {"Authorization": f"Bearer {app['secret']}"}
    base = f"/calls/v1/apps/{app['appId']}/sessions"
    steps = []
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as http:
        publisher = BenchPeer(http, base)
        await publisher.new_session()
        await publisher.push()
        subscribers: list[BenchPeer] = []
        for count in SUBSCRIBERS:
            while len(subscribers) < count:
                subscriber = BenchPeer(http, base)
                await subscriber.new_session()
                await subscriber.pull(publisher.session_id)
                subscribers.append(subscriber)
            stop = asyncio.Event()
            sending = asyncio.ensure_future(publish(publisher, stop))
            await asyncio.sleep(1.0)  # every subscriber connected and receiving
            for subscriber in subscribers:
                subscriber.received = Received()
            cpu_before, wall_before = cpu_seconds([pid]), time.perf_counter()
            await asyncio.sleep(WINDOW_SECONDS)
            cpu, wall = cpu_seconds([pid]) - cpu_before, time.perf_counter() - wall_before
            received = sum(s.received.packets for s in subscribers)
            latencies = [v for s in subscribers for v in s.received.latencies_ns]
            stop.set()
            await sending
            streams = count * 2  # video and audio per subscriber
            steps.append(
                {
                    "subscribers": count,
                    "forwarded_packets_per_second": round(received / wall),
                    "sfu_cpu_share": round(cpu / wall, 3),
                    "sfu_cpu_ms_per_second_per_stream": round(1000 * cpu / wall / streams, 2),
                    "sfu_cpu_us_per_forwarded_packet": round(1e6 * cpu / max(1, received), 1),
                    "latency_ms_p50": round(percentile(latencies, 0.5), 2),
                    "latency_ms_p95": round(percentile(latencies, 0.95), 2),
                }
            )
            print(steps[-1], flush=True)
        rss_before = status_mib(pid, "VmRSS") or 0.0
        idle = []
        for _ in range(IDLE_SESSIONS):
            peer = BenchPeer(http, base)
            await peer.new_session()
            await peer.pull(publisher.session_id)
            idle.append(peer)
        await asyncio.sleep(1.0)
        rss_after = status_mib(pid, "VmRSS") or 0.0
        for peer in [publisher, *subscribers, *idle]:
            await peer.pc.close()
    return {"steps": steps, "mib_per_session": round((rss_after - rss_before) / IDLE_SESSIONS, 2)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run() -> dict[str, Any]:
    floor = floor_seconds_per_packet()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="focal-bench-calls-") as data_dir:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FOCAL_")},
            "FOCAL_DATA_DIR": data_dir,
            "FOCAL_API_TOKENS": TOKEN,
            "FOCAL_CALLS_ICE_ADDRESSES": "127.0.0.1",
        }
        focal = Path(sys.executable).parent / "focal"
        server = subprocess.Popen(
            [str(focal), "calls", "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    httpx.get(f"{url}/healthz")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            result = asyncio.run(measure(url, server.pid))
        finally:
            server.terminate()
            server.wait(30)
    # What one more subscriber costs: the slope between the two largest steps (the
    # publisher's own receive path and the SFU's timers are paid once, not per subscriber).
    small, large = result["steps"][-2], result["steps"][-1]
    cpu = large["sfu_cpu_share"] - small["sfu_cpu_share"]
    packets = large["forwarded_packets_per_second"] - small["forwarded_packets_per_second"]
    subscribers = large["subscribers"] - small["subscribers"]
    marginal = cpu / max(1, packets)
    result["marginal_us_per_forwarded_packet"] = round(marginal * 1e6, 1)
    result["marginal_cpu_ms_per_second_per_subscriber"] = round(1000 * cpu / subscribers, 2)
    result["floor_us_per_packet"] = round(floor * 1e6, 2)
    result["marginal_to_floor_ratio"] = round(marginal / floor, 1)
    # A slope from two noisy steps can come out at or below zero on a busy machine: no estimate.
    result["subscribers_per_core_estimate"] = round(subscribers / cpu) if cpu > 0 else None
    sent_per_subscriber = VIDEO_BPS / 8 / VIDEO_PACKET + 50  # video and audio packets a second
    wanted = 0.9 * large["subscribers"] * sent_per_subscriber
    result["forwarding_kept_up"] = large["forwarded_packets_per_second"] >= wanted
    return result


if __name__ == "__main__":
    print(run())
