"""The HTTP load generator: a fixed number of client tasks, each sending requests in turn.

Through aiohttp, whose client costs about a third of httpx's CPU per request: the load
generator shares the machine with the server, so the less it takes, the more the figures are
the server's (a cache hit costs the server under a millisecond).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from bench.stats import Measurement

ACCEPT = "image/avif,image/webp,image/*,*/*;q=0.8"  # what a current browser sends for images


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    sent_bytes: int = 0  # what the request carried (uploads)


# One request, by ticket number: the tickets of a run are 0 to count - 1.
Send = Callable[[aiohttp.ClientSession, int], Awaitable[Answer]]


def image_urls(base_url: str, options: str, paths: list[str]) -> list[str]:
    return [f"{base_url}/cdn-cgi/image/{options}/{quote(path)}" for path in paths]


async def answer(response: aiohttp.ClientResponse, sent_bytes: int = 0) -> Answer:
    """Read a response whole: its time counts in the request's latency."""
    async with response:
        return Answer(response.status, await response.read(), sent_bytes)


async def _client_task(
    session: aiohttp.ClientSession,
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
            reply = await send(session, ticket)
        except aiohttp.ClientError as error:
            result.errors.append(f"{type(error).__name__}: {error}")
            continue
        elapsed = time.perf_counter() - started
        if reply.status != 200:
            first_line = reply.body.decode(errors="replace").partition("\n")[0]
            result.errors.append(f"{reply.status}: {first_line[:200]}")
            continue
        result.latencies.append(elapsed)
        result.sent_bytes += reply.sent_bytes


async def _run(
    send: Send, concurrency: int, count: int, headers: dict[str, str] | None
) -> Measurement:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=120.0),
        headers={"Accept": ACCEPT, **(headers or {})},
    ) as session:
        result = Measurement(concurrency=concurrency, count=count, seconds=0.0)
        tickets = itertools.count()
        started = time.perf_counter()
        await asyncio.gather(
            *(_client_task(session, send, tickets, count, result) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - started
    return result


def run_requests(
    send: Send, concurrency: int, count: int, headers: dict[str, str] | None = None
) -> Measurement:
    """`count` requests made by `send`, `concurrency` at a time; 200 is success."""
    return asyncio.run(_run(send, concurrency, count, headers))


def run_load(urls: list[str], concurrency: int, count: int) -> Measurement:
    """`count` GET requests over `urls` (round robin), `concurrency` at a time."""

    async def send(session: aiohttp.ClientSession, ticket: int) -> Answer:
        return await answer(await session.get(urls[ticket % len(urls)]))

    return run_requests(send, concurrency, count)


def warm_up(urls: list[str]) -> list[str]:
    """Each URL once, one at a time: first-use costs (imports, codec set-up) are not measured."""
    return run_load(urls, 1, len(urls)).errors
