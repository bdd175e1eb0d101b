"""The HTTP load generator: a fixed number of client tasks, each sending requests in turn."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import quote

import aiohttp
import httpx

from bench.stats import Measurement

ACCEPT = "image/avif,image/webp,image/*,*/*;q=0.8"  # what a current browser sends for images

# One request, by ticket number: the tickets of a run are 0 to count - 1.
Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def image_urls(base_url: str, options: str, paths: list[str]) -> list[str]:
    return [f"{base_url}/cdn-cgi/image/{options}/{quote(path)}" for path in paths]


async def _client_task(
    client: httpx.AsyncClient,
    send: Send,
    tickets: Iterator[int],
    count: int,
    result: Measurement,
) -> None:
    # Tasks share one ticket counter, so the mix of requests is the same at any concurrency.
    for ticket in tickets:
        if ticket >= count:
            return
        started = time.perf_counter()
        try:
            response = await send(client, ticket)
        except httpx.HTTPError as error:
            result.errors.append(f"{type(error).__name__}: {error}")
            continue
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            first_line = response.text.splitlines()[0] if response.text else ""
            result.errors.append(f"{response.status_code}: {first_line[:200]}")
            continue
        result.latencies.append(elapsed)
        result.sent_bytes += int(response.request.headers.get("content-length", 0))


async def _run(
    send: Send, concurrency: int, count: int, headers: dict[str, str] | None
) -> Measurement:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        limits=limits, timeout=120.0, headers={"Accept": ACCEPT, **(headers or {})}
    ) as client:
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets = itertools.count()
        started = time.perf_counter()
        await asyncio.gather(
            *(_client_task(client, send, tickets, count, result) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - started
    return result


def run_requests(
    send: Send, concurrency: int, count: int, headers: dict[str, str] | None = None
) -> Measurement:
    """`count` requests made by `send`, `concurrency` at a time; 200 is success."""
    return asyncio.run(_run(send, concurrency, count, headers))


async def _get_task(
    session: aiohttp.ClientSession,
    urls: list[str],
    tickets: Iterator[int],
    count: int,
    result: Measurement,
) -> None:
    for ticket in tickets:
        if ticket >= count:
            return
        started = time.perf_counter()
        try:
            async with session.get(urls[ticket % len(urls)]) as response:
                body = await response.read()
        except aiohttp.ClientError as error:
            result.errors.append(f"{type(error).__name__}: {error}")
            continue
        elapsed = time.perf_counter() - started
        if response.status != 200:
            first_line = body.decode(errors="replace").partition("\n")[0]
            result.errors.append(f"{response.status}: {first_line[:200]}")
            continue
        result.latencies.append(elapsed)


async def _get_all(urls: list[str], concurrency: int, count: int) -> Measurement:
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120.0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={"Accept": ACCEPT}
    ) as session:
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets = itertools.count()
        started = time.perf_counter()
        await asyncio.gather(
            *(_get_task(session, urls, tickets, count, result) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - started
    return result


def run_load(urls: list[str], concurrency: int, count: int) -> Measurement:
    """`count` GET requests over `urls` (round robin), `concurrency` at a time.

    Through aiohttp, whose client costs about a third of httpx's CPU per request: the load
    generator shares the machine with the server, so the less it takes, the more the figures
    are the server's (cache hits cost the server under a millisecond).
    """
    return asyncio.run(_get_all(urls, concurrency, count))


def warm_up(urls: list[str]) -> list[str]:
    """Each URL once, one at a time: first-use costs (imports, codec set-up) are not measured."""
    return run_load(urls, 1, len(urls)).errors
