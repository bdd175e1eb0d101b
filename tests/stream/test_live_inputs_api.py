"""The live-input API: the product's shapes, the images API's envelope and tokens, and
refusals that name what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conftest import RunningServer
from stream.conftest import AUTH, TOKEN


@pytest.fixture
def client(start_server: Callable[..., RunningServer]) -> httpx.Client:
    server = start_server(api_tokens=(TOKEN,), detector_warm_start=False, stream_rtmp_port=19355)
    return server.client()


def _create(client: httpx.Client, body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    answer = client.post(f"{prefix}/stream/live_inputs", headers=AUTH, json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["success"] is True and answer.json()["errors"] == []
    result: dict[str, Any] = answer.json()["result"]
    return result


def test_a_live_input_has_the_products_shape(client: httpx.Client) -> None:
    created = _create(
        client,
        {
            "meta": {"name": "studio"},
            "recording": {"mode": "automatic", "timeoutSeconds": 30, "requireSignedURLs": True},
            "deleteRecordingAfterDays": 45,
        },
    )
    assert created["rtmp"]["url"] == "rtmp://127.0.0.1:19355/live/"
    assert len(created["rtmp"]["streamKey"]) == 32
    assert created["meta"] == {"name": "studio"}
    assert created["recording"] == {
        "mode": "automatic",
        "timeoutSeconds": 30,
        "requireSignedURLs": True,
        "allowedOrigins": [],
    }
    assert created["deleteRecordingAfterDays"] == 45
    assert created["status"]["current"]["state"] == "disconnected"
    uid = created["uid"]
    for prefix in ("", "/accounts/my-account"):
        got = client.get(f"{prefix}/stream/live_inputs/{uid}", headers=AUTH).json()["result"]
        assert got == created
    listed = client.get("/accounts/a/stream/live_inputs", headers=AUTH).json()["result"]
    assert [item["uid"] for item in listed] == [uid]
    assert client.get(f"/stream/live_inputs/{uid}/videos", headers=AUTH).json()["result"] == []


def test_an_update_changes_only_the_fields_it_names(client: httpx.Client) -> None:
    uid = _create(client, {"meta": {"name": "a"}})["uid"]
    changed = client.put(
        f"/accounts/x/stream/live_inputs/{uid}",
        headers=AUTH,
        json={"recording": {"timeoutSeconds": 5}, "enabled": False},
    ).json()["result"]
    assert changed["meta"] == {"name": "a"}
    assert changed["recording"]["timeoutSeconds"] == 5 and changed["enabled"] is False
    assert changed["recording"]["mode"] == "automatic"


def test_deleting_a_live_input_forgets_it(client: httpx.Client) -> None:
    uid = _create(client, {})["uid"]
    assert client.delete(f"/stream/live_inputs/{uid}", headers=AUTH).json()["success"]
    gone = client.get(f"/stream/live_inputs/{uid}", headers=AUTH)
    assert gone.status_code == 404 and gone.json()["success"] is False
    assert client.get(f"/stream/{uid}/lifecycle").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"recording": {"mode": "sometimes"}}, "recording.mode is 'automatic' or 'off'"),
        ({"recording": {"timeoutSeconds": "soon"}}, "recording.timeoutSeconds is a whole"),
        ({"recording": {"allowedOrigins": "x"}}, "allowedOrigins must be a list"),
        ({"recording": {"requireSignedURLs": 1}}, "requireSignedURLs must be true or false"),
        ({"recording": {"delay": 1}}, "unknown recording field(s) delay"),
        ({"recording": []}, "recording must be a JSON object"),
        ({"meta": []}, "meta must be a JSON object"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"deleteRecordingAfterDays": 0}, "deleteRecordingAfterDays is a whole number"),
        ([], "the body must be a JSON object"),
    ],
)
def test_a_wrong_body_is_refused_with_what_is_wrong(
    client: httpx.Client, body: Any, message: str
) -> None:
    answer = client.post("/stream/live_inputs", headers=AUTH, json=body)
    assert answer.status_code == 400
    assert message in answer.json()["errors"][0]["message"]


def test_the_api_needs_a_token(client: httpx.Client) -> None:
    for path in ("/stream/live_inputs", "/accounts/a/stream/live_inputs"):
        refused = client.get(path)
        assert refused.status_code == 401 and refused.json()["success"] is False
        wrong = client.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403


def test_playback_of_what_does_not_exist_is_a_404_that_says_so(client: httpx.Client) -> None:
    uid = _create(client, {})["uid"]
    assert client.get(f"/stream/{uid}/lifecycle").json() == {
        "isInput": True,
        "videoUID": None,
        "live": False,
    }
    waiting = client.get(f"/stream/{uid}/manifest/video.m3u8")
    assert waiting.status_code == 404 and "no recording yet" in waiting.text
    for path in (
        "/stream/nothing/manifest/video.m3u8",
        "/stream/nothing/clip.mp4?time=1s&duration=1s",
        "/stream/nothing/segments/00000000.ts",
        "/stream/nothing/lifecycle",
    ):
        assert client.get(path).status_code == 404
    assert client.get("/stream/videos/nothing", headers=AUTH).status_code == 404
    assert client.delete("/stream/videos/nothing", headers=AUTH).status_code == 404
    bad_name = client.get("/stream/x/clip.mp4?time=1s&duration=1s&filename=../x")
    assert bad_name.status_code == 400 and "filename" in bad_name.text
