"""Bounded image work over HTTP: 503 with Retry-After when busy, a bounded queue."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

import httpx

from conftest import RunningServer
from focal.service import DeliveryService
from http_delivery import assert_error, image_size, module_fixtures
from imaging import gradient, png

server, client = module_fixtures()


# --- bounded concurrency --------------------------------------------------------------------


def hold_the_workers(server: RunningServer, count: int) -> tuple[threading.Event, list[Future]]:
    """Occupy `count` image-job slots with jobs that wait for the returned event."""
    delivery: DeliveryService = server.parts.delivery
    gate = threading.Event()

    async def hold() -> bool:
        async with delivery.jobs.admit():
            return await delivery.jobs.run(gate.wait)

    held = [asyncio.run_coroutine_threadsafe(hold(), server.loop) for _ in range(count)]
    while delivery.jobs.admitted < count:  # waits for admission; asserts nothing about time
        time.sleep(0.005)
    return gate, held


def test_busy_server_answers_503_with_retry_after(start_server) -> None:
    server = start_server(concurrency=1, queue_size=0)
    (server.origin / "a.png").write_bytes(png(gradient(80, 60)))
    gate, held = hold_the_workers(server, 1)
    try:
        with server.client() as client:
            response = client.get("/cdn-cgi/image/width=20/a.png")
            assert_error(response, 503, 9522)
            assert int(response.headers["retry-after"]) >= 1
            # onerror=redirect does not turn "busy" into a redirect
            busy = client.get("/cdn-cgi/image/width=20,onerror=redirect/a.png")
            assert busy.status_code == 503
    finally:
        gate.set()
    assert all(future.result(timeout=30) for future in held)
    with server.client() as client:
        assert client.get("/cdn-cgi/image/width=20/a.png").status_code == 200


def test_requests_wait_in_the_queue_and_beyond_it_are_refused(start_server) -> None:
    server = start_server(concurrency=1, queue_size=1)
    (server.origin / "a.png").write_bytes(png(gradient(80, 60)))
    delivery: DeliveryService = server.parts.delivery
    gate, held = hold_the_workers(server, 1)
    waiting: list[httpx.Response] = []
    try:
        queued = threading.Thread(
            target=lambda: waiting.append(
                httpx.get(server.url + "/cdn-cgi/image/width=20/a.png", timeout=60)
            )
        )
        queued.start()
        while delivery.jobs.admitted < 2:  # the second request is now waiting in the queue
            time.sleep(0.005)
        with server.client() as client:
            refused = client.get("/cdn-cgi/image/width=30/a.png")
        assert_error(refused, 503, 9522)
        assert "retry-after" in refused.headers
    finally:
        gate.set()
    queued.join(60)
    assert held[0].result(timeout=30)
    assert [response.status_code for response in waiting] == [200]
    assert image_size(waiting[0]) == (20, 15)
