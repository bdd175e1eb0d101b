"""An original of the origin folder is read by the image thread that transforms it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from conftest import RunningServer, read_photo
from focal.sources.local import LocalFile, LocalOrigin


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    server = start_server(detector_warm_start=False, result_cache_bytes=0)
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    return server


def origin_of(server: RunningServer) -> tuple[LocalOrigin, Callable[[LocalFile], bytes]]:
    """The server's origin folder, and its own load (before a test replaces it)."""
    origin = server.parts.sources.origin
    return origin, origin.load


def test_the_image_thread_reads_the_original_it_transforms(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, load = origin_of(server)
    readers: list[str] = []

    def recording_load(file: LocalFile) -> bytes:
        readers.append(threading.current_thread().name)
        return load(file)

    monkeypatch.setattr(origin, "load", recording_load)
    with server.client() as client:
        client.get(server.image_url("width=40", "cat.png")).raise_for_status()  # hashed first
        readers.clear()
        response = client.get(server.image_url("width=50", "cat.png"))
    assert response.status_code == 200, response.text
    assert readers and all(name.startswith("focal-image") for name in readers), readers


def test_an_original_removed_after_it_was_found_is_a_clear_error(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, load = origin_of(server)

    def load_after_removal(file: LocalFile) -> bytes:
        file.path.unlink(missing_ok=True)
        return load(file)

    with server.client() as client:
        client.get(server.image_url("width=40", "cat.png")).raise_for_status()
        monkeypatch.setattr(origin, "load", load_after_removal)
        response = client.get(server.image_url("width=50", "cat.png"))
    assert 400 <= response.status_code < 600 and response.status_code != 500, response.text
    assert "cat.png" in response.text and "could not be read" in response.text
