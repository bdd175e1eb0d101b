"""Shared fixtures: the real test photos and a real HTTP server on 127.0.0.1.

Image helpers (generated images, decoding) live in tests/imaging.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from focal.catalog.times import now_micros
from focal.config import Settings, load_settings
from focal.server import create_app
from focal.service.metering import Clock
from focal.service.parts import Parts

# tests/postgres.py: a throwaway PostgreSQL cluster, and `database_url` on every backend;
# tests/browser.py: headless Chromium (`browser`, `page`, `screenshot`);
# tests/calls/server.py: a server with the SFU (`calls_server`, `calls_app`).
pytest_plugins = ["postgres", "browser", "calls.server"]

PHOTOS = Path(__file__).parent / "data" / "faces" / "images"


# --- Images --------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_photo(name: str) -> bytes:
    """A real photo from tests/data/faces/images, by the part of its name after '__'."""
    matches = [path for path in PHOTOS.iterdir() if path.stem.split("__")[-1] == name]
    assert len(matches) == 1, f"no single test photo named {name!r}"
    return matches[0].read_bytes()


@pytest.fixture
def photo() -> Callable[[str], bytes]:
    """`photo("chelsea")` -> the bytes of tests/data/faces/images/scikit-image__chelsea.png."""
    return read_photo


# --- A real HTTP server --------------------------------------------------------------------


@dataclass
class RunningServer:
    """Focal on 127.0.0.1, in a thread of this process, with its origin folder."""

    url: str
    settings: Settings
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    @property
    def origin(self) -> Path:
        return self.settings.origin_path

    @property
    def parts(self) -> Parts:
        """The server's parts, built at its start-up (focal.service.parts)."""
        parts: Parts = self.app.state.parts
        return parts

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def image_url(self, options: str, source: str) -> str:
        return f"/cdn-cgi/image/{options}/{source}"


@contextmanager
def serving(app: Any) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """Any ASGI app on a free port of 127.0.0.1, in a thread: its URL and event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve(sockets=[listener])), daemon=True
    )
    thread.start()
    while not server.started:  # waits for start-up, asserts nothing about time
        assert thread.is_alive(), "the server failed to start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", loop
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()
        listener.close()


@contextmanager
def running_server(settings: Settings, clock: Clock = now_micros) -> Iterator[RunningServer]:
    settings.origin_path.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, clock)
    with serving(app) as (url, loop):
        yield RunningServer(url, settings, app, loop)


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: no FOCAL_* variable of the environment leaks in; one
    detector worker unless a test asks for more (each costs a model load)."""
    return load_settings(environ={}, data_dir=data_dir, **{"detector_workers": 1, **overrides})


@pytest.fixture
def start_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., RunningServer]]:
    """`start_server(max_pixels=1000)` -> a running server with those settings, stopped after
    the test; its origin folder starts empty. `clock=` sets the clock metering runs on."""
    with ExitStack() as stack:

        def start(clock: Clock = now_micros, **overrides: Any) -> RunningServer:
            settings = server_settings(tmp_path_factory.mktemp("focal-data"), **overrides)
            return stack.enter_context(running_server(settings, clock))

        yield start
