"""`images.hosted`: the hosted images API from code, against a real server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from conftest import RunningServer, read_photo
from focal import Images
from focal.errors import ErrorKind, FocalError

TOKEN = "sdk-hosted-token"


@pytest.fixture
def images(start_server: Callable[..., RunningServer]) -> Images:
    server = start_server(api_tokens=(TOKEN,), detector_warm_start=False)
    return Images(server.url, token=TOKEN)


def test_store_read_change_delete(images: Images) -> None:
    photo = read_photo("single_face")
    details = images.hosted.upload(photo, id="me", metadata={"user": 1})
    assert details["id"] == "me" and details["metadata"] == {"user": 1}
    image = images.hosted.image("me")
    assert image.bytes() == photo
    assert image.details()["width"] == details["width"]
    assert image.update(metadata={"user": 2})["metadata"] == {"user": 2}
    listed, token = images.hosted.list(per_page=10)
    assert [entry["id"] for entry in listed] == ["me"] and token is None
    image.delete()
    with pytest.raises(FocalError) as missing:
        image.details()
    assert missing.value.kind is ErrorKind.NOT_FOUND


def test_signed_url_opens_a_private_image(images: Images) -> None:
    # A private image gets a random id: a custom id can't be private (the hosted product's rule).
    private = images.hosted.upload(read_photo("grace_hopper"), require_signed_urls=True)
    url = images.hosted.image(private["id"]).signed_url("public", expires_in=300)
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.split("?")[0]).status_code == 403


def test_direct_upload_url_takes_one_upload(images: Images) -> None:
    created = images.hosted.create_direct_upload(expires_in=600, id="avatar")
    photo = read_photo("single_face")
    assert httpx.post(created["uploadURL"], files={"file": ("a.jpg", photo)}).status_code == 200
    assert images.hosted.image("avatar").bytes() == photo


def test_errors_are_the_servers(images: Images) -> None:
    with pytest.raises(FocalError) as not_image:
        images.hosted.upload(b"plain text")
    assert not_image.value.kind is ErrorKind.NOT_AN_IMAGE
    assert "image" in not_image.value.message
    with pytest.raises(FocalError) as embedded:
        _ = Images().hosted
    assert "server" in embedded.value.message
