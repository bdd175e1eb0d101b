"""Source limits come before face detection on every path that detects."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import RunningServer, read_photo
from focal import Images
from focal.errors import ErrorKind, FocalError
from imaging import header_only_jpeg

TOKEN = "test-token"
BOMB = header_only_jpeg(read_photo("biden"), 65500, 65500)


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server(api_tokens=(TOKEN,), detector_warm_start=False)


def test_url_delivery_refuses_before_detecting(server: RunningServer) -> None:
    (server.origin / "bomb.jpg").write_bytes(BOMB)
    with server.client() as client:
        response = client.get(server.image_url("width=200,gravity=face", "bomb.jpg"))
    assert response.status_code == 403, response.text
    assert response.headers["Cf-Resized"] == "err=9413"
    assert "65500×65500" in response.text
    assert server.parts.detectors.tasks_run == 0


def test_the_images_api_refuses_before_detecting(server: RunningServer) -> None:
    with Images(server.url, token=TOKEN) as images:
        chain = images.input(BOMB).transform(width=200, height=200, fit="cover", gravity="face")
        with pytest.raises(FocalError) as refused:
            chain.output(format="image/webp")
    assert refused.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert server.parts.detectors.tasks_run == 0


def test_an_overlay_past_the_limits_is_refused_before_the_base_is_detected(
    server: RunningServer,
) -> None:
    with Images(server.url, token=TOKEN) as images:
        chain = (
            images.input(read_photo("biden"))
            .transform(width=200, height=200, fit="cover", gravity="face")
            .draw(images.input(BOMB).transform(width=10))
        )
        with pytest.raises(FocalError) as refused:
            chain.output(format="image/webp")
    assert refused.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert server.parts.detectors.tasks_run == 0


def test_embedded_sdk_refuses_before_loading_the_detector() -> None:
    with Images() as images:
        chain = images.input(BOMB).transform(width=200, height=200, fit="cover", gravity="face")
        with pytest.raises(FocalError) as refused:
            chain.output(format="image/webp")
        assert refused.value.kind is ErrorKind.IMAGE_TOO_LARGE
        assert images.backend._detector is None  # type: ignore[attr-defined]
