"""A Focal server with the SFU on 127.0.0.1 for the calls tests (`calls_server`, one per
module), and an app on it (`calls_app`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import RunningServer, running_server, server_settings

TOKEN = "calls-test-token"


@dataclass
class CallsApp:
    id: str
    secret: str


@pytest.fixture(scope="module")
def calls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    settings = server_settings(
        Path(tmp_path_factory.mktemp("calls-data")),
        calls_enabled=True,
        calls_ice_addresses=("127.0.0.1",),
        api_tokens=(TOKEN,),
        detector_warm_start=False,
    )
    with running_server(settings) as server:
        yield server


def create_calls_app(server: RunningServer, name: str = "test") -> CallsApp:
    with server.client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        made = client.post("/calls/v1/apps", json={"name": name})
    assert made.status_code == 201, made.text
    result = made.json()["result"]
    return CallsApp(result["appId"], result["secret"])


@pytest.fixture
def calls_app(calls_server: RunningServer) -> CallsApp:
    return create_calls_app(calls_server)
