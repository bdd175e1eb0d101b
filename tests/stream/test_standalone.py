"""`focal stream serve`'s loop: it listens for RTMP until told to stop, then closes cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import server_settings
from focal.stream.standalone import serve_ingest
from stream.asyncio_thread import run_in_thread
from stream.conftest import free_port


def test_ingest_alone_listens_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    settings = server_settings(tmp_path, stream_rtmp_port=port)

    async def scenario() -> None:
        started, stop = asyncio.Event(), asyncio.Event()
        serving = asyncio.create_task(serve_ingest(settings, started, stop))
        await asyncio.wait_for(started.wait(), 60)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        stop.set()  # as SIGTERM does for `focal stream serve`
        await asyncio.wait_for(serving, 60)

    run_in_thread(scenario)
    assert (tmp_path / "focal.db").exists()
