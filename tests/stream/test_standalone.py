"""`focal stream serve`'s loop: it listens for RTMP until SIGTERM, then closes cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from conftest import server_settings
from focal.stream.standalone import serve_ingest
from stream.conftest import free_port


def test_ingest_alone_listens_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    settings = server_settings(tmp_path, stream_rtmp_port=port)

    async def scenario() -> None:
        started = asyncio.Event()
        serving = asyncio.create_task(serve_ingest(settings, started))
        await asyncio.wait_for(started.wait(), 60)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        os.kill(os.getpid(), signal.SIGTERM)  # the handler serve_ingest installed takes it
        await asyncio.wait_for(serving, 60)

    asyncio.run(scenario())
    assert (tmp_path / "focal.db").exists()
