"""An original of the origin folder is read by the image thread that transforms it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from conftest import RunningServer, read_photo
from focal.sources.local import LocalFile


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server(detector_warm_start=False, result_cache_bytes=0)


def test_the_image_thread_reads_the_original_it_transforms(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    origin = server.parts.sources.origin
    load = origin.load
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
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    origin = server.parts.sources.origin
    load = origin.load

    def load_after_removal(file: LocalFile) -> bytes:
        file.path.unlink(missing_ok=True)
        return load(file)

    with server.client() as client:
        client.get(server.image_url("width=40", "cat.png")).raise_for_status()
        monkeypatch.setattr(origin, "load", load_after_removal)
        response = client.get(server.image_url("width=50", "cat.png"))
    assert 400 <= response.status_code < 600 and response.status_code != 500, response.text
    assert "cat.png" in response.text and "could not be read" in response.text
