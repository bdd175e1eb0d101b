"""Images SDK chains, run the two ways the SDK offers: embedded (in this process, the
reference) and remote (`POST /transform` on the real server).

Both sides run the same chain on the same files, so remote/embedded measures what the
multipart round trip, the HTTP layer and the service add to the same image work.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.stats import Measurement
from focal import Images
from focal.errors import FocalError
from focal.sdk import Chain, Result

TOKEN = "bench-token"  # the server is started with FOCAL_API_TOKENS set to it
WATERMARK = (
    Path(__file__).resolve().parent.parent / "examples" / "watermark_upload" / "watermark.png"
)


def watermark(images: Images, data: bytes) -> Chain:
    """The watermark upload example's chain: 100×100 mark, bottom-right at 10 px, 75 %."""
    mark = images.input(WATERMARK).transform(width=100, height=100)
    return images.input(data).draw(mark, bottom=10, right=10, opacity=0.75)


CHAINS: dict[str, tuple[Callable[[Images, bytes], Chain], str]] = {
    "watermark": (watermark, "image/avif"),
}


def _output(name: str, images: Images, data: bytes) -> Result:
    build, format = CHAINS[name]
    return build(images, data).output(format=format)


class EmbeddedChainWork:
    """The reference side: the chain embedded, on `concurrency` threads (libvips releases
    the GIL, as on the server's image threads)."""

    def __init__(self, chain: str, files: list[bytes]) -> None:
        self.chain = chain
        self.files = files
        self.images = Images()

    def warm_up(self) -> None:
        for data in self.files:
            _output(self.chain, self.images, data)

    def _worker(self, tickets: Iterator[int], lock: threading.Lock, result: Measurement) -> None:
        while True:
            with lock:
                ticket = next(tickets)
            if ticket >= result.count:
                return
            started = time.perf_counter()
            try:
                _output(self.chain, self.images, self.files[ticket % len(self.files)])
            except FocalError as error:
                result.errors.append(error.message)
                continue
            result.latencies.append(time.perf_counter() - started)

    def run(self, concurrency: int, count: int) -> Measurement:
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets, lock = itertools.count(), threading.Lock()
        cpu_before, started = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="embedded") as pool:
            for worker in [
                pool.submit(self._worker, tickets, lock, result) for _ in range(concurrency)
            ]:
                worker.result()
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu_before
        return result


async def _remote(
    base_url: str, chain: str, files: list[bytes], concurrency: int, count: int
) -> Measurement:
    build, format = CHAINS[chain]
    result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
    tickets = itertools.count()
    async with Images(base_url, token=TOKEN) as images:

        async def task() -> None:
            for ticket in tickets:
                if ticket >= count:
                    return
                started = time.perf_counter()
                try:
                    await build(images, files[ticket % len(files)]).output_async(format=format)
                except FocalError as error:
                    result.errors.append(f"{error.status}: {error.message[:200]}")
                    continue
                result.latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(task() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def run_remote(
    base_url: str, chain: str, files: list[bytes], concurrency: int, count: int
) -> Measurement:
    """`count` chains over the files (round robin), `concurrency` at a time, remote."""
    return asyncio.run(_remote(base_url, chain, files, concurrency, count))
