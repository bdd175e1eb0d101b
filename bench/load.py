"""The HTTP load generator: a fixed number of client tasks, each looping over the URLs."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx

from bench.stats import Measurement

ACCEPT = "image/avif,image/webp,image/*,*/*;q=0.8"  # what a current browser sends for images


def image_urls(base_url: str, options: str, paths: list[str]) -> list[str]:
    return [f"{base_url}/cdn-cgi/image/{options}/{quote(path)}" for path in paths]


async def _client_task(
    client: httpx.AsyncClient,
    urls: list[str],
    tickets: Iterator[int],
    count: int,
    result: Measurement,
) -> None:
    # Tasks share one ticket counter, so the mix of images is the same at any concurrency.
    for ticket in tickets:
        if ticket >= count:
            return
        started = time.perf_counter()
        try:
            response = await client.get(urls[ticket % len(urls)])
        except httpx.HTTPError as error:
            result.errors.append(f"{type(error).__name__}: {error}")
            continue
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            first_line = response.text.splitlines()[0] if response.text else ""
            result.errors.append(f"{response.status_code}: {first_line[:200]}")
            continue
        result.latencies.append(elapsed)


async def _run(urls: list[str], concurrency: int, count: int) -> Measurement:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        limits=limits, timeout=120.0, headers={"Accept": ACCEPT}
    ) as client:
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets = itertools.count()
        started = time.perf_counter()
        await asyncio.gather(
            *(_client_task(client, urls, tickets, count, result) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - started
    return result


def run_load(urls: list[str], concurrency: int, count: int) -> Measurement:
    """`count` GET requests over `urls` (round robin), `concurrency` at a time."""
    return asyncio.run(_run(urls, concurrency, count))


def warm_up(urls: list[str]) -> list[str]:
    """Each URL once, one at a time: first-use costs (imports, codec set-up) are not measured."""
    return run_load(urls, 1, len(urls)).errors
