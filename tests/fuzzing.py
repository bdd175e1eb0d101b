"""What the fuzz suite (tests/fuzz) shares: its budget, a server with something stored in it,
and the checks every fuzzed request must pass.

`make test` runs a few dozen examples per test; `make fuzz` sets FOCAL_FUZZ_EXAMPLES high.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from conftest import RunningServer, read_photo, running_server, server_settings
from imaging import animated, coloured_frames, gradient, jpeg, png

TOKEN = "fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("FOCAL_FUZZ_EXAMPLES", "20"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # requests over HTTP: their time is the bench's business
    database=None,  # every run explores afresh; a failure prints its reproducing example
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Small originals, so that many variants of them cost little.
ORIGINALS = {
    "photo.jpg": jpeg(gradient(96, 64)),
    "alpha.png": png(gradient(48, 48).bandjoin(128)),
    "anim.gif": animated(coloured_frames(24, 16, 3)),
}
HOSTED_ID = "fuzz/photo"


def module_server() -> Any:
    """A test module's `server` fixture: `server = module_server()` at its top."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
        with fuzz_server(tmp_path_factory.mktemp("fuzz")) as running:
            yield running

    return server


@contextmanager
def fuzz_server(data_dir: Path) -> Iterator[RunningServer]:
    """A server with originals in its origin folder, one hosted image and one variant."""
    settings_ = server_settings(
        data_dir, api_tokens=(TOKEN,), detector_warm_start=False, flexible_variants=True
    )
    with running_server(settings_) as server:
        for name, data in ORIGINALS.items():
            (server.origin / name).write_bytes(data)
        with server.client() as client:
            stored = client.post(
                "/images/v1",
                headers=AUTH,
                files={"file": ("photo.jpg", read_photo("grace_hopper"))},
                data={"id": HOSTED_ID},
            )
            assert stored.status_code == 200, stored.text
            variant = {"id": "thumb", "options": {"fit": "cover", "width": 40, "height": 40}}
            made = client.post("/images/v1/variants", headers=AUTH, json=variant)
            assert made.status_code == 200, made.text
        yield server


def stored_state(server: RunningServer, client: httpx.Client) -> tuple[object, ...]:
    """Everything a request could store: files under the data folder but the catalog's own
    (its pages change with reads), and the hosted images and variants as the API lists them."""
    data_dir = server.settings.data_dir
    files = sorted(
        (path.relative_to(data_dir).as_posix(), path.stat().st_size)
        for path in data_dir.rglob("*")
        if path.is_file() and not path.name.startswith("focal.db")
    )
    listed = client.get("/images/v1", params={"per_page": 100}, headers=AUTH).json()
    variants = client.get("/images/v1/variants", headers=AUTH).json()
    return files, listed["result"], variants["result"]


def check_answer(response: httpx.Response) -> None:
    """No 5xx, and a refusal that says why."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert response.content.strip(), "a refusal without a message"


def check_refusal_changed_nothing(
    server: RunningServer,
    client: httpx.Client,
    before: tuple[object, ...],
    response: httpx.Response,
) -> None:
    check_answer(response)
    if response.status_code >= 400:
        assert stored_state(server, client) == before, "a refused request changed what is stored"
