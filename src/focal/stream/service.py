"""The stream part of a server: its records, management, playback and, when enabled, ingest.

Built once by the composition root (service/parts.py). Ingest listens only on servers that
enable it (FOCAL_STREAM_ENABLED, or `focal stream serve`); every server plays back and
manages, reading the same catalog and blob store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from focal.catalog.live_streams import StreamCatalog
from focal.catalog.signing_keys import SigningKeyStore
from focal.catalog.usage import UsageStore
from focal.config import Settings
from focal.extras import import_extra
from focal.storage import BlobStore
from focal.stream.inputs import StreamInputs
from focal.stream.playback import StreamPlayback

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30.0  # how often abandoned and expired recordings are looked for


def rtmp_url(settings: Settings) -> str:
    if settings.stream_rtmp_url:
        return settings.stream_rtmp_url
    return f"rtmp://{settings.stream_rtmp_host}:{settings.stream_rtmp_port}/live/"


@dataclass(frozen=True)
class StreamParts:
    catalog: StreamCatalog
    inputs: StreamInputs
    playback: StreamPlayback
    rtmp_url: str


def build_stream(
    settings: Settings,
    engine: Engine,
    blobs: BlobStore,
    note_delivered: Callable[[int], None],
) -> StreamParts:
    catalog = StreamCatalog(engine)
    return StreamParts(
        catalog=catalog,
        inputs=StreamInputs(catalog, blobs),
        playback=StreamPlayback(catalog, blobs, SigningKeyStore(engine), note_delivered),
        rtmp_url=rtmp_url(settings),
    )


async def _sweep_every(sweeps: list[Callable[[], int]], seconds: float) -> None:
    while True:
        for sweep in sweeps:
            try:
                await asyncio.to_thread(sweep)
            except Exception as error:  # the catalog away: try again next time
                log.warning("stream: sweep failed, tried again in %g s: %s", seconds, error)
        await asyncio.sleep(seconds)


@asynccontextmanager
async def ingesting(
    settings: Settings, stream: StreamParts, blobs: BlobStore, usage: UsageStore
) -> AsyncIterator[asyncio.Server]:
    """The RTMP server on FOCAL_STREAM_RTMP_HOST:PORT while the context lasts."""
    import_extra("av", "live-stream ingest")
    from focal.stream.ingest import Ingest, IngestLimits
    from focal.stream.rtmp import serve_rtmp

    limits = IngestLimits(
        max_inputs=settings.stream_max_inputs,
        max_bitrate_kbps=settings.stream_max_bitrate_kbps,
        max_segment_bytes=settings.stream_max_segment_bytes,
        segment_seconds=settings.stream_segment_seconds,
    )
    ingest = Ingest(stream.catalog, blobs, usage, limits)
    server = await serve_rtmp(ingest, settings.stream_rtmp_host, settings.stream_rtmp_port)
    log.info("stream: RTMP ingest on %s:%d", settings.stream_rtmp_host, settings.stream_rtmp_port)
    sweeping = asyncio.create_task(_sweep_every([ingest.sweep, stream.inputs.sweep], SWEEP_SECONDS))
    try:
        yield server
    finally:
        sweeping.cancel()
        server.close()
        await ingest.aclose()
