"""`focal stream serve`: RTMP ingest alone, without the HTTP server (any server plays back)."""

from __future__ import annotations

import asyncio
import signal

from focal.catalog import UsageStore, catalog_url, open_catalog
from focal.config import Settings
from focal.storage import open_blob_store
from focal.stream.service import build_stream, ingesting


async def serve_ingest(
    settings: Settings,
    started: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Ingest until `stop` is set; without one, until SIGINT or SIGTERM."""
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    blobs = open_blob_store(settings.storage_url, settings.data_dir)
    usage = UsageStore(engine)
    # Ingest serves nothing: what it would note of deliveries has nowhere to go.
    stream = build_stream(settings, engine, blobs, lambda _milliseconds: None)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    try:
        async with ingesting(settings, stream, blobs, usage):
            if started is not None:
                started.set()
            await stop.wait()
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
        blobs.close()
        engine.dispose()
