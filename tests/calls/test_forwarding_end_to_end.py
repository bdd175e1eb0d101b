"""One publisher, subscribers that decode what the SFU forwards, on 127.0.0.1."""

from __future__ import annotations

import asyncio

from calls.peers import MovingVideo, Peer, Tone, until
from calls.server import CallsApp
from conftest import RunningServer  # noqa: F811


def test_one_publisher_three_subscribers_decode_video_and_audio(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    async def run() -> None:
        import httpx

        async with httpx.AsyncClient(base_url=calls_server.url, timeout=120) as http:
            publisher = Peer(http, calls_app.id, calls_app.secret)
            await publisher.new_session()
            pushed = await publisher.push({"camera": MovingVideo(), "mic": Tone()})
            assert [t["trackName"] for t in pushed["tracks"]] == ["camera", "mic"]
            subscribers = [Peer(http, calls_app.id, calls_app.secret) for _ in range(3)]
            for subscriber in subscribers:
                await subscriber.new_session()
                pulled = await subscriber.pull(publisher.session_id, ["camera", "mic"])
                assert pulled["requiresImmediateRenegotiation"] is True
                assert all("errorCode" not in t for t in pulled["tracks"])
            for subscriber in subscribers:
                await until(
                    lambda s=subscriber: (
                        s.received.frames["video"] >= 5 and s.received.frames["audio"] >= 5
                    ),
                    "decoded frames at each subscriber",
                )
            for peer in [publisher, *subscribers]:
                await peer.close()

    asyncio.run(run())
