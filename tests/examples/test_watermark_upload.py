"""The watermark upload example, end to end: its app on a real server, a real upload."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from conftest import RunningServer, read_photo, serving
from example_apps import load_example
from focal import Images
from imaging import decode, mean_abs_diff, rgb

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "watermark_upload"


def upload(url: str, data: bytes) -> httpx.Response:
    files = {"image": ("photo.jpg", data, "image/jpeg")}
    return httpx.post(url, files=files, timeout=60)


def stored_name(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    match = re.fullmatch(
        r"Image uploaded successfully as (image-\d+-[0-9a-f]{8}\.avif)", response.text
    )
    assert match, response.text
    return match.group(1)


def test_upload_is_watermarked_and_stored(tmp_path: Path) -> None:
    example = load_example("watermark_upload")
    photo = read_photo("coffee")  # 400×600 PNG
    assert decode((EXAMPLE / "watermark.png").read_bytes()).width == 100
    with serving(example.create_app(Images(), tmp_path)) as (url, _):
        page = httpx.get(url)
        assert 'enctype="multipart/form-data"' in page.text and 'name="image"' in page.text
        name = stored_name(upload(url, photo))
        empty = httpx.post(url, data={"other": "x"})
    assert empty.status_code == 400 and empty.text == "No image file provided"
    stored = (tmp_path / name).read_bytes()
    assert Images().info(stored).format == "image/avif"
    result, original = decode(stored), decode(photo)
    assert (result.width, result.height) == (original.width, original.height)
    # The watermark's dark ring sits 10 px in from the bottom-right corner: darker there,
    # the rest of the photo as it was (up to AVIF's loss).
    right, bottom = original.width - 10, original.height - 10
    ring = (right - 50, bottom - 96)  # 4 px inside the ring's top edge
    assert rgb(result).getpoint(*ring)[0] < rgb(original).getpoint(*ring)[0] - 40
    away = (0, 0, original.width - 120, original.height - 120)
    assert mean_abs_diff(result.crop(*away), original.crop(*away)) < 4


def test_the_same_app_against_a_server_stores_the_same_bytes(
    start_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    focal = start_server(api_tokens=("secret",))
    example = load_example("watermark_upload")
    photo = read_photo("chelsea")
    stores = {"embedded": tmp_path / "embedded", "remote": tmp_path / "remote"}
    apps = {
        "embedded": example.create_app(Images(), stores["embedded"]),
        "remote": example.create_app(Images(focal.url, token="secret"), stores["remote"]),
    }
    with serving(apps["embedded"]) as (url, _):
        embedded = (stores["embedded"] / stored_name(upload(url, photo))).read_bytes()
    with serving(apps["remote"]) as (url, _):
        name = stored_name(upload(url, photo))
    # Remote mode keeps the result in the server's hosted storage, not in a folder.
    remote = Images(focal.url, token="secret").hosted.image(f"watermarked/{name}").bytes()
    assert not stores["remote"].exists()
    assert embedded == remote


def test_an_oversize_upload_is_refused(tmp_path: Path) -> None:
    example = load_example("watermark_upload")
    with serving(example.create_app(Images(), tmp_path)) as (url, _):
        response = upload(url, b"\xff" * (21 * 1024 * 1024))
    assert response.status_code == 413
    assert "limit is 20,971,520 bytes" in response.text
    assert not list(tmp_path.iterdir())
