"""What the hosted-images tests over HTTP share: a server with an API token, and the
envelope's checks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pyvips

from conftest import RunningServer

TOKEN = "hosted-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Start = Callable[..., RunningServer]


def upload(client: httpx.Client, data: bytes, **fields: str) -> httpx.Response:
    return client.post("/images/v1", headers=AUTH, files={"file": ("photo.jpg", data)}, data=fields)


def ok(response: httpx.Response) -> dict:
    body = response.json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["errors"] == []
    return body["result"]


def failed(response: httpx.Response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False and body["result"] is None
    return body["errors"][0]["message"]


def size_of(response: httpx.Response) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(response.content, "")
    return image.width, image.height
