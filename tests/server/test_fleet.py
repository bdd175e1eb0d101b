"""A fleet of servers: exact metering on one shared catalog, and results shared through a
blob store, with a store that is down costing time and never the answer."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from conftest import RunningServer, free_port, read_photo
from focal.options import canonical, parse_options
from focal.service.parts import Parts

TOKEN = "fleet-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVE = """
import sys, uvicorn
from focal.config import load_settings
from focal.server import create_app
catalog_url, data_dir, origin_dir, port, token = sys.argv[1:]
settings = load_settings(
    environ={},
    catalog_url=catalog_url,
    data_dir=data_dir,
    origin_dir=origin_dir,
    api_tokens=(token,),
    result_cache_bytes=0,
    detector_warm_start=False,
)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(port), log_level="warning")
"""

# Distinct variants, each with the spellings it is asked by: 10 widths of one photo (1000 px
# wide: none is enlarged) and 2 variants of another; three of them spelled two ways.
VARIANTS: list[tuple[str, list[str]]] = [
    ("group.jpg", ["width=300", "w=300"] if width == 300 else [f"width={width}"])
    for width in range(100, 1001, 100)
] + [
    ("grace.jpg", ["width=200,quality=80", "q=80,w=200"]),
    ("grace.jpg", ["format=webp,width=400", "f=webp,w=400"]),
]
PHOTOS = {"group.jpg": "multi_face", "grace.jpg": "grace_hopper"}
ROUNDS = 3  # times each spelling is asked of each server


@contextmanager
def server_process(catalog: str, folder: Path) -> Iterator[str]:
    """A server process on `catalog`, with its own data folder and origin folder (which must
    exist) under `folder`; its URL, once it answers /healthz. Its output goes to
    `folder/server.log`, quoted if it fails to start."""
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVE,
                catalog,
                str(folder / "data"),
                str(folder / "origin"),
                str(port),
                TOKEN,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:  # waits for start-up; asserts nothing about time
            assert process.poll() is None, f"the server did not start:\n{log.read_text()}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _usage(url: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()  # a day either side: a run across midnight still fits
    days = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    response = httpx.get(f"{url}/usage", params=days, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def _transformations_made(url: str) -> int:
    """The server's own count of transformations, from GET /metrics."""
    metrics = httpx.get(f"{url}/metrics", timeout=30).text
    found = re.search(r"^focal_transformations(?:_total)? (\S+)$", metrics, re.MULTILINE)
    assert found is not None, metrics
    return int(float(found.group(1)))


def test_two_server_processes_on_one_catalog_count_exactly(
    database_url: str, tmp_path: Path
) -> None:
    """Each process makes every variant itself (no result cache), concurrently with the other,
    yet the shared catalog counts each distinct variant once, whatever its spelling."""
    for _source, spellings in VARIANTS:  # the spellings really are one variant each
        assert len({canonical(parse_options(spelling)) for spelling in spellings}) == 1
    assert len({(source, canonical(parse_options(s[0]))) for source, s in VARIANTS}) == 12
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        (folder / "origin").mkdir(parents=True)
        for name, photo in PHOTOS.items():
            (folder / "origin" / name).write_bytes(read_photo(photo))

    with ExitStack() as stack:
        # One after the other: the first to start migrates the new catalog.
        urls = [stack.enter_context(server_process(database_url, folder)) for folder in folders]
        # Neighbours in this list (one variant, both servers) run at the same time.
        asks = [
            (url, index, f"/cdn-cgi/image/{spelling}/{source}")
            for _ in range(ROUNDS)
            for index, (source, spellings) in enumerate(VARIANTS)
            for spelling in spellings
            for url in urls
        ]

        def ask(item: tuple[str, int, str]) -> tuple[int, int, bytes, str]:
            url, index, path = item
            response = httpx.get(url + path, timeout=120)
            return index, response.status_code, response.content, response.headers.get("etag", "")

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(ask, asks))

        assert len(answers) == ROUNDS * 2 * sum(len(spellings) for _, spellings in VARIANTS)
        assert {status for _, status, _, _ in answers} == {200}
        for index in range(len(VARIANTS)):  # every spelling, server and round: one answer
            answer = {(body, etag) for number, _, body, etag in answers if number == index}
            assert len(answer) == 1
        for url in urls:  # no cache: each server made every variant at least once
            assert _transformations_made(url) >= len(VARIANTS)
        reports = [_usage(url) for url in urls]

    for report in reports:
        assert report["total"]["unique_transformations"] == len(VARIANTS)
        assert report["window"]["unique_transformations"] == len(VARIANTS)
    assert reports[0]["days"] == reports[1]["days"]


def _parts(server: RunningServer) -> Parts:
    return server.parts


def _replace(path: Path, data: bytes) -> None:
    """As a deploy does: a new file renamed over the old one."""
    temporary = path.with_name(path.name + ".new")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def settle(server: RunningServer) -> None:
    """Wait for the server's writes to the fleet's store."""
    asyncio.run_coroutine_threadsafe(_parts(server).delivery.settle(), server.loop).result(60)


def test_a_fleet_shares_results_through_the_blob_store(
    start_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """A variant made by one server is served by another from the fleet's store, byte for
    byte with the same ETag, without being made again; a replaced original is made anew."""
    shared = f"file://{tmp_path}/shared"
    a, b = start_server(shared_results_url=shared), start_server(shared_results_url=shared)
    for server in (a, b):  # each its own origin folder, with a copy of one photo
        (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    made_a, made_b = _parts(a).delivery, _parts(b).delivery
    assert made_a.shared is not None and made_b.shared is not None
    assert made_b.results is not None
    path = a.image_url("width=400,format=webp", "photo.jpg")

    with a.client() as client_a, b.client() as client_b:
        first = client_a.get(path)
        assert first.status_code == 200
        settle(a)  # A writes to the fleet's store in the background
        assert made_a.transformations == 1
        assert (made_a.shared.hits, made_a.shared.misses, made_a.shared.errors) == (0, 1, 0)
        assert any(entry.is_file() for entry in (tmp_path / "shared").rglob("*"))

        from_fleet = client_b.get(path)
        assert from_fleet.status_code == 200
        assert from_fleet.content == first.content
        assert from_fleet.headers["etag"] == first.headers["etag"]
        assert from_fleet.headers["content-type"] == "image/webp"
        assert made_b.transformations == 0
        assert (made_b.shared.hits, made_b.shared.misses, made_b.shared.errors) == (1, 0, 0)

        local = client_b.get(path)  # kept in B's own cache: the fleet's store is not asked
        assert local.content == first.content
        assert made_b.results.hits == 1
        assert made_b.shared.hits == 1
        assert made_b.transformations == 0

        for server in (a, b):  # a new photo deployed under the same name
            _replace(server.origin / "photo.jpg", read_photo("grace_hopper"))
        new = client_b.get(path)
        assert new.status_code == 200
        settle(b)
        assert new.content != first.content
        assert new.headers["etag"] != first.headers["etag"]
        assert made_b.transformations == 1
        assert (made_b.shared.hits, made_b.shared.misses) == (1, 1)

        new_at_a = client_a.get(path)  # and now A is the one that finds it in the store
        assert new_at_a.content == new.content
        assert new_at_a.headers["etag"] == new.headers["etag"]
        assert made_a.transformations == 1
        assert made_a.shared.hits == 1


def _take_down(server: RunningServer, store: str, place: Path) -> None:
    """Make the fleet's folder store of `server` (started on `place`) fail every call."""
    shared = _parts(server).shared
    assert shared is not None
    shutil.rmtree(place)
    if store == "folder":  # a symlink to itself: every access fails (ELOOP), as on a bad mount
        place.symlink_to(place)
    else:  # a regular file where the folder was: a put used to answer 500
        place.write_bytes(b"not a folder")


@pytest.mark.parametrize("store", ["s3", "folder", "folder-is-a-file", "file-from-the-start"])
def test_a_fleet_store_that_is_down_costs_speed_not_the_answer(
    store: str,
    start_server: Callable[..., RunningServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fleet's store fails every call: an S3 endpoint that nothing listens on, or a
    folder that can no longer be reached or is a regular file now. The variant is still made
    and served, right, and the failed calls are counted; a repeat comes from the server's own
    cache. A store that is a regular file from the start can't be opened: the server starts
    and serves without it."""
    for name in list(os.environ):  # no AWS_* variable of the machine may leak in
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    place = tmp_path / "shared"
    url = (
        f"s3://focal-test/fleet?endpoint={endpoint}&region=us-east-1"
        "&access_key_id=focal-test-key&secret_access_key=focal-test-secret"
        "&max_retries=0"  # fail at once: obstore's ten retries take 2 to 11 s per call here
        if store == "s3"
        else f"file://{place}"
    )
    if store == "file-from-the-start":
        place.write_bytes(b"not a folder")
    server = start_server(shared_results_url=url)
    alone = start_server()  # the same server without a fleet store
    for running in (server, alone):
        (running.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    if store.startswith("folder"):
        _take_down(server, store, place)
    parts = _parts(server)
    if store == "file-from-the-start":
        assert parts.shared is None
    else:
        assert parts.shared is not None
    path = server.image_url("width=300", "photo.jpg")

    with server.client() as client, alone.client() as reference:
        served = client.get(path)
        expected = reference.get(path)
        assert served.status_code == expected.status_code == 200
        assert served.content == expected.content
        assert served.headers["etag"] == expected.headers["etag"]
        assert served.headers["content-type"] == "image/jpeg"
        image = pyvips.Image.new_from_buffer(served.content, "")
        assert (image.width, image.height) == (300, 200)
        assert parts.delivery.transformations == 1
        settle(server)
        if parts.shared is not None:
            # The read and the write each failed; the read counted as a miss.
            assert (parts.shared.hits, parts.shared.misses) == (0, 1)
            assert parts.shared.errors == 2

        again = client.get(path)  # from the server's own cache: the store is not asked again
        assert again.content == served.content
        assert parts.delivery.transformations == 1
        if parts.shared is not None:
            assert parts.shared.errors == 2
    if store in ("folder-is-a-file", "file-from-the-start"):
        assert place.read_bytes() == b"not a folder"  # the store never put anything in its place
