"""The in-process floor: bare pyvips thumbnail + encode of the same files, no HTTP.

Encoder settings mirror focal.pipeline.encode (Q 85, progressive optimised JPEG, WebP effort
4, AVIF effort 2, PNG compression 6), so that the server/floor ratio measures what HTTP, the
service and the pipeline's own steps cost, not different encoder work.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyvips
from pyvips.enums import ForeignKeep

from bench.scenarios import Floor
from bench.stats import Measurement

UNBOUNDED = 10_000_000  # thumbnail needs a height: one no image reaches
_LOADER_FORMATS = {"jpegload_buffer": "jpeg", "pngload_buffer": "png", "webpload_buffer": "webp"}


@dataclass(frozen=True)
class FloorJob:
    data: bytes
    format: str  # the output format for this file


def _encode(image: pyvips.Image, fmt: str) -> bytes:
    if fmt == "jpeg":
        # As the server: progressive and optimised except for tiny or huge outputs.
        small_or_huge = (
            image.width * image.height < 50 * 50 or max(image.width, image.height) > 3000
        )
        return bytes(
            image.jpegsave_buffer(
                Q=85,
                interlace=not small_or_huge,
                optimize_coding=True,
                keep=int(ForeignKeep.ICC),
            )
        )
    if fmt == "webp":
        return bytes(image.webpsave_buffer(Q=85, effort=4, keep=int(ForeignKeep.NONE)))
    if fmt == "avif":
        return bytes(
            image.heifsave_buffer(Q=85, compression="av1", effort=2, keep=int(ForeignKeep.NONE))
        )
    if fmt == "png":
        return bytes(image.pngsave_buffer(compression=6, keep=int(ForeignKeep.NONE)))
    raise ValueError(f"no floor encoder for {fmt}")


def jobs_for(floor: Floor, files: list[bytes]) -> list[FloorJob]:
    """One job per file; the output format follows the source where the scenario names none."""
    jobs = []
    for data in files:
        fmt = floor.format
        if fmt is None:
            loader = str(pyvips.Image.new_from_buffer(data, "").get("vips-loader"))
            fmt = _LOADER_FORMATS.get(loader, "jpeg")
        jobs.append(FloorJob(data, fmt))
    return jobs


def transform(floor: Floor, job: FloorJob) -> bytes:
    image = pyvips.Image.thumbnail_buffer(
        job.data,
        floor.width,
        height=floor.height or UNBOUNDED,
        size="both" if floor.crop else "down",
        crop=floor.crop or "none",
    )
    return _encode(image, job.format)


def _worker(
    floor: Floor,
    jobs: list[FloorJob],
    tickets: Iterator[int],
    lock: threading.Lock,
    count: int,
    result: Measurement,
) -> None:
    while True:
        with lock:
            ticket = next(tickets)
        if ticket >= count:
            return
        started = time.perf_counter()
        try:
            transform(floor, jobs[ticket % len(jobs)])
        except pyvips.Error as error:
            result.errors.append(str(error).splitlines()[0])
            continue
        result.latencies.append(time.perf_counter() - started)


class FloorWork:
    """One scenario's floor: its recipe and the files it runs on."""

    def __init__(self, floor: Floor, files: list[bytes]) -> None:
        self.floor = floor
        self.jobs = jobs_for(floor, files)

    def warm_up(self) -> None:
        for job in self.jobs:
            transform(self.floor, job)

    def run(self, concurrency: int, count: int) -> Measurement:
        """`count` images over the files (round robin) on `concurrency` threads, as the load
        generator spreads requests. pyvips releases the GIL inside libvips, so threads use
        every core."""
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets, lock = itertools.count(), threading.Lock()
        cpu_before = time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="floor") as pool:
            workers = [
                pool.submit(_worker, self.floor, self.jobs, tickets, lock, count, result)
                for _ in range(concurrency)
            ]
            for worker in workers:
                worker.result()  # re-raise anything but a pyvips error
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu_before
        return result
