"""The result cache and request coalescing over a real server: a variant is made once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import httpx

from conftest import RunningServer, read_photo
from imaging import gradient, png

VARIANT = "width=300,quality=70,format=webp"


def hold_the_workers(server: RunningServer, count: int) -> tuple[threading.Event, list[Future]]:
    """Occupy `count` image threads with jobs that wait for the returned event."""
    parts = server.parts
    gate = threading.Event()

    async def hold() -> bool:
        async with parts.jobs.admit():
            return await parts.jobs.run(gate.wait)

    held = [asyncio.run_coroutine_threadsafe(hold(), server.loop) for _ in range(count)]
    while parts.jobs.admitted < count:
        time.sleep(0.005)
    return gate, held


def test_concurrent_requests_for_a_new_variant_make_it_once(
    start_server: Callable[..., RunningServer],
) -> None:
    # Room for all 100 requests at once: none is refused as busy.
    server = start_server(queue_size=200)
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    parts = server.parts
    url = server.url + server.image_url(VARIANT, "photo.jpg")
    start = threading.Barrier(100)
    responses: list[httpx.Response] = []

    def ask() -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            responses.append(client.get(url))

    threads = [threading.Thread(target=ask) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(responses) == 100
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert len({response.headers["etag"] for response in responses}) == 1
    assert parts.delivery.transformations == 1
    assert parts.meter.usage.in_window(parts.meter.clock()) == 1  # one counted

    # Later: from the cache, no transformation.
    assert parts.results is not None
    hits = parts.results.hits
    with server.client() as client:
        again = client.get(server.image_url(VARIANT, "photo.jpg"))
    assert again.content == responses[0].content
    assert again.headers["etag"] == responses[0].headers["etag"]
    assert again.headers["content-type"] == "image/webp"
    assert parts.delivery.transformations == 1
    assert parts.results.hits == hits + 1


def test_two_spellings_of_one_variant_are_one_entry(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    (server.origin / "a.png").write_bytes(png(gradient(400, 300)))
    parts = server.parts
    with server.client() as client:
        first = client.get(server.image_url("width=120,quality=80,format=webp", "a.png"))
        second = client.get(server.image_url("f=webp,q=80,w=120", "a.png"))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert parts.delivery.transformations == 1
    assert parts.results is not None and len(parts.results) == 1


def test_replacing_or_deleting_the_original_leaves_old_variants_unreachable(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    original = server.origin / "a.png"
    original.write_bytes(png(gradient(400, 300)))
    parts = server.parts
    with server.client() as client:
        old = client.get(server.image_url(VARIANT, "a.png"))
        original.write_bytes(read_photo("chelsea"))  # new bytes, same path
        new = client.get(server.image_url(VARIANT, "a.png"))
        assert parts.delivery.transformations == 2
        assert new.content != old.content
        assert new.headers["etag"] != old.headers["etag"]
        assert client.get(server.image_url(VARIANT, "a.png")).content == new.content
        assert parts.delivery.transformations == 2
        original.unlink()
        gone = client.get(server.image_url(VARIANT, "a.png"))
    assert gone.status_code == 404
    assert parts.delivery.transformations == 2


def test_a_deleted_hosted_image_has_no_variants_left(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(api_tokens=("t",), detector_warm_start=False)
    auth = {"Authorization": "Bearer t"}
    parts = server.parts
    with server.client() as client:

        def upload(data: bytes) -> None:
            files = {"file": ("a.jpg", data)}
            answer = client.post("/images/v1", headers=auth, files=files, data={"id": "a"})
            assert answer.status_code == 200, answer.text

        upload(read_photo("nature-1"))
        old = client.get("/images/a/public")
        assert client.get("/images/a/public").content == old.content
        assert parts.delivery.transformations == 1  # the second from the cache
        assert client.delete("/images/v1/a", headers=auth).status_code == 200
        assert client.get("/images/a/public").status_code == 404
        upload(read_photo("chelsea"))  # the same id, another image
        new = client.get("/images/a/public")
    assert new.status_code == 200 and new.content != old.content
    assert parts.delivery.transformations == 2


def test_a_burst_for_one_new_variant_is_not_refused_as_busy(
    start_server: Callable[..., RunningServer],
) -> None:
    # The default queue (64) is smaller than the burst: the requests waiting for the one
    # transformation hold no place in it.
    server = start_server(detector_warm_start=False)
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    parts = server.parts
    with server.client() as client:  # the original is known (hashed) already
        assert client.get(server.image_url("width=10", "photo.jpg")).status_code == 200
    url = server.url + server.image_url(VARIANT, "photo.jpg")
    start = threading.Barrier(100)
    statuses: list[int] = []

    def ask() -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            statuses.append(client.get(url).status_code)

    threads = [threading.Thread(target=ask) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * 100
    assert parts.delivery.transformations == 2


def test_errors_and_not_modified_are_not_cached(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server()
    (server.origin / "fake.jpg").write_text("not an image\n")
    (server.origin / "a.png").write_bytes(png(gradient(400, 300)))
    parts = server.parts
    with server.client() as client:
        for _ in range(2):
            assert client.get(server.image_url("width=50", "fake.jpg")).status_code >= 400
        assert parts.delivery.transformations == 2
        made = client.get(server.image_url("width=50", "a.png"))
        etag = made.headers["etag"]
        unchanged = client.get(
            server.image_url("width=50", "a.png"), headers={"If-None-Match": etag}
        )
    assert unchanged.status_code == 304
    assert parts.results is not None and len(parts.results) == 1


def test_without_a_cache_concurrent_requests_still_share_one_transformation(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(result_cache_bytes=0, concurrency=1, queue_size=100)
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    parts = server.parts
    assert parts.results is None
    url = server.url + server.image_url(VARIANT, "photo.jpg")
    # The one image thread is held: the first request's transformation waits behind it while
    # the others arrive.
    gate, held = hold_the_workers(server, 1)
    bodies: list[bytes] = []

    def ask() -> None:
        with httpx.Client(timeout=60) as client:
            bodies.append(client.get(url).content)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    try:
        for thread in threads:
            thread.start()
        while parts.delivery.coalesced < 19:  # all but the first wait for the first's work
            time.sleep(0.005)
    finally:
        gate.set()
    for thread in threads:
        thread.join(120)
    assert all(future.result(timeout=30) for future in held)
    assert len(bodies) == 20 and len(set(bodies)) == 1
    assert parts.delivery.transformations == 1
    with server.client() as client:
        client.get(url)
    assert parts.delivery.transformations == 2  # nothing was kept
    assert not (server.settings.data_dir / "cache").exists()
