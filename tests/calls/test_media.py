"""Media through the SFU on 127.0.0.1: keyframes for late subscribers, NACK repair, closing
and renegotiating, data channels, the 30-second rules and egress metering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from calls.peers import MovingVideo, Peer, Tone, until
from calls.server import CallsApp, create_calls_app
from conftest import RunningServer
from focal.calls.sfu import Sfu


def run(server: RunningServer, test: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            await test(http)

    asyncio.run(main())


def sfu_of(server: RunningServer) -> Sfu:
    sfu = server.parts.calls
    assert sfu is not None
    return sfu


def on_server(server: RunningServer, work: Awaitable[Any]) -> Any:
    """Run a coroutine on the server's own event loop, from the test's."""
    return asyncio.run_coroutine_threadsafe(work, server.loop)  # type: ignore[arg-type]


async def publisher_of(http: httpx.AsyncClient, app: CallsApp) -> Peer:
    publisher = Peer(http, app.id, app.secret)
    await publisher.new_session()
    await publisher.push({"camera": MovingVideo(), "mic": Tone()})
    return publisher


def test_a_late_subscriber_gets_a_keyframe_at_once(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    async def test(http: httpx.AsyncClient) -> None:
        publisher = await publisher_of(http, calls_app)
        session = sfu_of(calls_server).session(calls_app.id, publisher.session_id)
        camera = session.find_local("camera")
        assert camera is not None
        await until(lambda: camera.publication.packets > 30, "the publisher's video")
        # The encoder's own keyframes are 3000 frames apart: what the late subscriber
        # decodes starts with the keyframe its subscription asked for.
        requested_before = camera.publication.keyframes_requested
        late = Peer(http, calls_app.id, calls_app.secret)
        await late.new_session()
        await late.pull(publisher.session_id, ["camera"])
        await until(lambda: late.received.frames["video"] >= 3, "the late subscriber's frames")
        assert camera.publication.keyframes_requested == requested_before + 1
        # The SFU never decodes: the publisher's receiver has no decoder thread.
        receiver = camera.transceiver.receiver
        assert receiver._RTCRtpReceiver__decoder_thread is None  # type: ignore[attr-defined]
        for peer in (publisher, late):
            await peer.close()

    run(calls_server, test)


def test_a_subscriber_losing_packets_is_repaired_from_the_sfus_history(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    async def test(http: httpx.AsyncClient) -> None:
        publisher = await publisher_of(http, calls_app)
        lossy = Peer(http, calls_app.id, calls_app.secret)
        await lossy.new_session()
        dropped: set[int] = set()
        repaired: set[int] = set()

        def drop(payload_type: int, number: int) -> bool:
            if payload_type != video_type:
                return False
            if number in dropped:
                repaired.add(number)
                return False
            if number % 7 == 3 and len(dropped) < 20:
                dropped.add(number)
                return True
            return False

        pulled = await lossy.pull(publisher.session_id, ["camera"])
        session = sfu_of(calls_server).session(calls_app.id, lossy.session_id)
        subscription = session.remote[0].subscription
        await until(lambda: subscription.payload_type is not None, "the subscription to start")
        video_type = subscription.payload_type
        lossy.drop = drop
        await until(lambda: len(dropped) >= 20 and len(repaired) >= 15, "NACKed packets resent")
        assert subscription.counters.nacks_answered >= len(repaired)
        before = lossy.received.frames["video"]
        await until(lambda: lossy.received.frames["video"] > before + 10, "decoding after loss")
        assert pulled["tracks"][0]["mid"]
        for peer in (publisher, lossy):
            await peer.close()

    run(calls_server, test)


def test_closing_tracks_and_renegotiating(calls_server: RunningServer, calls_app: CallsApp) -> None:
    async def test(http: httpx.AsyncClient) -> None:
        publisher = await publisher_of(http, calls_app)
        viewer = Peer(http, calls_app.id, calls_app.secret)
        await viewer.new_session()
        pulled = await viewer.pull(publisher.session_id, ["camera", "mic"])
        await until(lambda: viewer.received.frames["audio"] > 5, "audio at the viewer")
        camera_mid = pulled["tracks"][0]["mid"]
        closed = await viewer.call(
            "PUT", f"/{viewer.session_id}/tracks/close", {"tracks": [{"mid": camera_mid}]}
        )
        assert closed.status_code == 200
        answer = closed.json()
        assert answer["requiresImmediateRenegotiation"] is True
        await viewer.apply_offer(answer["sessionDescription"])
        shown = (await viewer.call("GET", f"/{viewer.session_id}")).json()
        status = {track["trackName"]: track["status"] for track in shown["tracks"]}
        assert status == {"camera": "closed", "mic": "active"}
        sfu = sfu_of(calls_server)
        camera = sfu.session(calls_app.id, publisher.session_id).find_local("camera")
        assert camera is not None and camera.publication.subscriptions == []
        # The publisher stops its microphone without renegotiating: its viewer loses it.
        mic_mid = next(t.mid for t in publisher.pc.getTransceivers() if t.kind == "audio")
        forced = await publisher.call(
            "PUT",
            f"/{publisher.session_id}/tracks/close",
            {"tracks": [{"mid": mic_mid}], "force": True},
        )
        assert forced.json() == {
            "tracks": [{"mid": mic_mid}],
            "requiresImmediateRenegotiation": False,
        }
        published = (await publisher.call("GET", f"/{publisher.session_id}")).json()
        assert {t["trackName"]: t["status"] for t in published["tracks"]}["mic"] == "closed"
        again = await viewer.pull(publisher.session_id, ["mic"])
        assert again["tracks"][0]["errorCode"] == "not_found"
        for peer in (publisher, viewer):
            await peer.close()

    run(calls_server, test)


def test_data_channels_go_from_a_publisher_to_its_subscribers(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    async def test(http: httpx.AsyncClient) -> None:
        writer = Peer(http, calls_app.id, calls_app.secret)
        await writer.new_session(with_offer=True)
        await until(lambda: writer.control.readyState == "open", "the writer's SCTP")
        made = await writer.call(
            "POST",
            f"/{writer.session_id}/datachannels/new",
            {"dataChannels": [{"location": "local", "dataChannelName": "chat"}]},
        )
        assert made.status_code == 200, made.text
        local = made.json()["dataChannels"][0]
        chat = writer.pc.createDataChannel("chat", negotiated=True, id=local["id"])
        readers = []
        for _ in range(2):
            reader = Peer(http, calls_app.id, calls_app.secret)
            await reader.new_session(with_offer=True)
            await until(lambda r=reader: r.control.readyState == "open", "the reader's SCTP")
            found = await reader.call(
                "POST",
                f"/{reader.session_id}/datachannels/new",
                {
                    "dataChannels": [
                        {
                            "location": "remote",
                            "sessionId": writer.session_id,
                            "dataChannelName": "chat",
                        },
                        {
                            "location": "remote",
                            "sessionId": writer.session_id,
                            "dataChannelName": "nope",
                        },
                    ]
                },
            )
            remote, missing = found.json()["dataChannels"]
            assert missing["errorCode"] == "not_found"
            channel = reader.pc.createDataChannel("chat", negotiated=True, id=remote["id"])
            messages: list[str] = []
            channel.on("message", messages.append)
            readers.append((reader, messages))

        def everyone_heard() -> bool:
            if chat.readyState == "open":
                chat.send("hello")
            return all(messages for _, messages in readers)

        await until(everyone_heard, "the message at every reader")
        assert all(set(messages) == {"hello"} for _, messages in readers)
        for peer in [writer, *(reader for reader, _ in readers)]:
            await peer.close()

    run(calls_server, test)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_tracks_close_after_30_s_and_lost_sessions_after_30_s_more(
    calls_server: RunningServer,
) -> None:
    app = create_calls_app(calls_server, "clocked")
    sfu = sfu_of(calls_server)
    clock = ManualClock()
    real_clock, sfu.clock = sfu.clock, clock

    seen: dict[int, int] = {}

    def quiet(track: Any) -> bool:
        # No new packet for ten polls in a row (0.5 s): the camera's last frame is in.
        count = track.publication.packets
        if seen.get(-1) != count:
            seen[-1], seen[0] = count, 0
            return False
        seen[0] += 1
        return seen[0] >= 10

    def sweep() -> None:
        on_server(calls_server, sfu.sweep()).result(30)

    async def test(http: httpx.AsyncClient) -> None:
        publisher = await publisher_of(http, app)
        session = sfu.session(app.id, publisher.session_id)
        camera, mic = session.find_local("camera"), session.find_local("mic")
        assert camera is not None and mic is not None
        await until(lambda: camera.publication.packets > 0 and mic.publication.packets > 0, "media")
        # The camera stops sending; the microphone goes on.
        next(t for t in publisher.pc.getTransceivers() if t.kind == "video").sender.replaceTrack(
            None
        )
        await until(lambda: quiet(camera), "the camera's last packet")
        clock.now += 29
        await asyncio.to_thread(sweep)
        assert camera.status == "active"
        clock.now += 2
        heard = mic.publication.packets
        await until(lambda: mic.publication.packets > heard + 2, "audio after the clock moved")
        await asyncio.to_thread(sweep)
        assert camera.status == "closed" and mic.status == "active"
        # Connectivity lost: the session stays usable for 30 s, then it is gone.
        await publisher.close()
        await until(lambda: not session.connected, "the SFU to see the client go")
        clock.now += 29
        await asyncio.to_thread(sweep)
        shown = await publisher.call("GET", f"/{publisher.session_id}")
        assert shown.status_code == 200
        clock.now += 2
        await asyncio.to_thread(sweep)
        gone = await publisher.call("GET", f"/{publisher.session_id}")
        assert gone.status_code == 404 and gone.json()["errorCode"] == "not_found"
        assert session.closed

    try:
        run(calls_server, test)
    finally:
        sfu.clock = real_clock


def test_egress_is_what_the_apps_clients_received(calls_server: RunningServer) -> None:
    app = create_calls_app(calls_server, "metered")
    parts = calls_server.parts

    async def test(http: httpx.AsyncClient) -> list[Peer]:
        publisher = await publisher_of(http, app)
        viewers = []
        for _ in range(2):
            viewer = Peer(http, app.id, app.secret)
            await viewer.new_session()
            await viewer.pull(publisher.session_id, ["camera", "mic"])
            viewers.append(viewer)
        for viewer in viewers:
            await until(lambda v=viewer: v.received.frames["video"] > 20, "video at the viewer")
        peers = [publisher, *viewers]
        for peer in peers:
            await peer.close()
        return peers

    async def main() -> list[Peer]:
        async with httpx.AsyncClient(base_url=calls_server.url, timeout=120) as http:
            return await test(http)

    peers = asyncio.run(main())
    received = sum(peer.bytes_received for peer in peers)
    parts.calls_egress.flush()
    with calls_server.client(headers={"Authorization": "Bearer calls-test-token"}) as client:
        report = client.get("/usage").json()["calls"]
    counted = next(a["egress_bytes"] for a in report["apps"] if a["appId"] == app.id)
    # What the SFU sent and what reached the clients, but for datagrams still in flight
    # when the clients closed (a report or two of RTCP).
    assert received <= counted <= received * 1.01 + 2_000
    assert received > 10_000
    assert report["egress_gb"] >= counted / 1e9
    assert report["cost"] == 0  # well inside the 1,000 GB free each month


def test_h264_is_forwarded_as_it_was_encoded(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    async def test(http: httpx.AsyncClient) -> None:
        publisher = Peer(http, calls_app.id, calls_app.secret)
        await publisher.new_session()
        await publisher.push({"camera": MovingVideo()}, codec="video/H264")
        viewer = Peer(http, calls_app.id, calls_app.secret)
        await viewer.new_session()
        await viewer.pull(publisher.session_id, ["camera"])
        await until(lambda: viewer.received.frames["video"] >= 5, "decoded H.264 frames")
        session = sfu_of(calls_server).session(calls_app.id, viewer.session_id)
        assert session.remote[0].subscription.mime_type.lower() == "video/h264"
        for peer in (publisher, viewer):
            await peer.close()

    run(calls_server, test)
