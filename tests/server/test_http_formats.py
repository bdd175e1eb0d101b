"""Variants over HTTP: content types and options, negotiated formats, format=json, client hints."""

from __future__ import annotations

import httpx
import pytest

from conftest import RunningServer, read_photo
from http_delivery import CHROME, MAGIC, SAFARI, image_size, module_fixtures
from imaging import heic, pillow_of

server, client = module_fixtures()


# --- content types and options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "media_type"),
    [
        ("width=100", "image/png"),  # no format: the original's
        ("width=100,format=jpeg", "image/jpeg"),
        ("width=100,format=baseline-jpeg", "image/jpeg"),
        ("width=100,format=png", "image/png"),
        ("width=100,format=webp", "image/webp"),
        ("width=100,format=avif", "image/avif"),
        ("width=100,format=gif", "image/gif"),
        ("w=100,f=webp", "image/webp"),
    ],
)
def test_content_type_is_the_real_format(
    client: httpx.Client, options: str, media_type: str
) -> None:
    response = client.get(f"/cdn-cgi/image/{options}/cat.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert MAGIC[media_type](response.content)
    assert image_size(response) == (100, 67)
    assert int(response.headers["content-length"]) == len(response.content)


def test_aliases_give_the_same_image_and_etag(client: httpx.Client) -> None:
    long = client.get(
        "/cdn-cgi/image/width=120,height=80,fit=cover,gravity=left,quality=70,"
        "format=webp/people/group.jpg"
    )
    short = client.get("/cdn-cgi/image/g=left,q=70,f=webp,h=80,w=120,fit=cover/people/group.jpg")
    assert long.status_code == short.status_code == 200
    assert long.content == short.content
    assert long.headers["etag"] == short.headers["etag"]
    assert image_size(long) == (120, 80)


def test_sources_with_spaces_and_folders(client: httpx.Client) -> None:
    response = client.get("/cdn-cgi/image/width=64/grace%20hopper.jpg")
    assert response.status_code == 200
    assert image_size(response)[0] == 64
    assert client.get("/cdn-cgi/image/width=64/people/group.jpg").status_code == 200


def test_originals_route_serves_the_file_as_is(client: httpx.Client) -> None:
    response = client.get("/originals/cat.png")
    assert response.status_code == 200
    assert response.content == read_photo("chelsea")
    assert response.headers["content-type"] == "image/png"


# --- format negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "opaque", "transparent"),
    [
        (CHROME, "image/avif", "image/avif"),
        ("image/avif,image/webp,*/*", "image/avif", "image/avif"),
        (SAFARI, "image/webp", "image/webp"),
        ("*/*", "image/jpeg", "image/png"),
        (None, "image/jpeg", "image/png"),
    ],
)
def test_format_auto_follows_accept(
    client: httpx.Client, accept: str | None, opaque: str, transparent: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    for source, expected in (("rocket.jpg", opaque), ("alpha.png", transparent)):
        response = client.get(f"/cdn-cgi/image/width=80,format=auto/{source}", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == expected
        assert MAGIC[expected](response.content)
        assert "Accept" in [part.strip() for part in response.headers["vary"].split(",")]


def test_vary_accept_only_when_negotiated(client: httpx.Client) -> None:
    for options in ("width=80", "width=80,format=webp", "width=80,format=jpeg"):
        response = client.get(f"/cdn-cgi/image/{options}/rocket.jpg", headers={"Accept": CHROME})
        assert response.status_code == 200
        assert "accept" not in response.headers.get("vary", "").lower()


def test_negotiated_variants_have_different_etags(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=80,format=auto/rocket.jpg"
    avif = client.get(url, headers={"Accept": CHROME})
    jpeg = client.get(url, headers={"Accept": "*/*"})
    assert avif.headers["etag"] != jpeg.headers["etag"]
    # a 304 is only for the variant the client holds
    assert (
        client.get(
            url, headers={"Accept": "*/*", "If-None-Match": avif.headers["etag"]}
        ).status_code
        == 200
    )


# --- format=json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        "width=300",
        "width=200,height=200,fit=cover",
        "height=100,fit=contain,dpr=2",
        "w=1920,h=1120,fit=aspect-crop",
        "rotate=90,w=150",
        "trim=10;20;30;40,w=100,h=200,fit=pad",
    ],
)
def test_json_shape_and_sizes_match_the_real_output(client: httpx.Client, options: str) -> None:
    described = client.get(f"/cdn-cgi/image/{options},format=json/people/group.jpg")
    assert described.status_code == 200
    assert described.headers["content-type"] == "application/json"
    body = described.json()
    assert set(body) == {"width", "height", "original"}
    assert body["original"] == {
        "file_size": len(read_photo("multi_face")),
        "format": "image/jpeg",
        "width": 1000,
        "height": 667,
    }
    real = client.get(f"/cdn-cgi/image/{options}/people/group.jpg")
    assert (body["width"], body["height"]) == image_size(real)


def test_json_of_a_png_and_an_animation(client: httpx.Client) -> None:
    body = client.get("/cdn-cgi/image/width=100,format=json/cat.png").json()
    assert body["original"]["format"] == "image/png"
    assert (body["width"], body["height"]) == (100, 67)
    animation = client.get("/cdn-cgi/image/width=30,format=json/anim.gif").json()
    assert (animation["width"], animation["height"]) == (30, 20)
    assert animation["original"]["format"] == "image/gif"
    assert (animation["original"]["width"], animation["original"]["height"]) == (60, 40)


# --- client hints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "width"),
    [
        ({"Sec-CH-Width": "300"}, 320),
        ({"Sec-CH-Width": "900"}, 960),
        ({"Sec-CH-Width": "1500"}, 1500),
        ({"Width": "700"}, 768),
        ({}, 1200),
        ({"Sec-CH-UA-Mobile": "?1"}, 768),
        ({"User-Agent": "Mozilla/5.0 (iPhone) Mobile/15E148"}, 768),
    ],
)
def test_width_auto(client: httpx.Client, headers: dict[str, str], width: int) -> None:
    body = client.get("/cdn-cgi/image/width=auto,format=json/nature.jpg", headers=headers).json()
    assert body["width"] == width
    response = client.get("/cdn-cgi/image/width=auto,format=webp/nature.jpg", headers=headers)
    assert response.status_code == 200
    assert image_size(response)[0] == width
    vary = [part.strip().lower() for part in response.headers["vary"].split(",")]
    assert "sec-ch-width" in vary


def test_width_auto_variants_have_their_own_etags(client: httpx.Client) -> None:
    url = "/cdn-cgi/image/width=auto,format=json/nature.jpg"
    narrow = client.get(url, headers={"Sec-CH-Width": "300"}).headers["etag"]
    wide = client.get(url, headers={"Sec-CH-Width": "1500"}).headers["etag"]
    assert narrow != wide


def test_slow_connection_quality_with_save_data(client: httpx.Client) -> None:
    options = "width=400,quality=90,slow-connection-quality=20,format=jpeg"
    url = f"/cdn-cgi/image/{options}/people/group.jpg"
    normal = client.get(url)
    slow = client.get(url, headers={"Save-Data": "on"})
    assert normal.status_code == slow.status_code == 200
    assert len(slow.content) < 0.7 * len(normal.content)
    assert image_size(slow) == image_size(normal) == (400, 267)
    assert slow.headers["etag"] != normal.headers["etag"]
    assert "save-data" in slow.headers["vary"].lower()
    for hint in ({"ECT": "3g"}, {"RTT": "300"}, {"Downlink": "1.5"}):
        assert client.get(url, headers=hint).content == slow.content
    # without scq, Save-Data changes nothing
    plain = "/cdn-cgi/image/width=400,quality=90,format=jpeg/people/group.jpg"
    assert client.get(plain, headers={"Save-Data": "on"}).content == client.get(plain).content


# --- AVIF size cap --------------------------------------------------------------------------


def test_large_avif_falls_back_to_webp_and_says_so(client: httpx.Client) -> None:
    # nature.jpg is 4896×3264: 2000 wide is 2.7 MP, above the 1.5 MP AVIF cap; 1000 is below
    small = client.get("/cdn-cgi/image/width=1000,format=avif/nature.jpg")
    assert small.headers["content-type"] == "image/avif" and "focal-format" not in small.headers
    for attempt in range(2):  # made, then from the result cache: the same answer
        large = client.get("/cdn-cgi/image/width=2000,format=avif/nature.jpg")
        assert large.status_code == 200, large.text
        assert large.headers["content-type"] == "image/webp", attempt
        assert large.content[8:12] == b"WEBP"
        assert large.headers["focal-format"] == "webp; fallback-from=avif"
        assert image_size(large) == (2000, 1333)
    auto = client.get(
        "/cdn-cgi/image/width=2000,format=auto/nature.jpg", headers={"Accept": CHROME}
    )
    assert auto.headers["content-type"] == "image/webp"
    assert auto.headers["focal-format"] == "webp; fallback-from=avif"
    assert "accept" in auto.headers["vary"].lower()
    assert large.headers["etag"] != auto.headers["etag"] != small.headers["etag"]


# --- HEIC originals -------------------------------------------------------------------------


def test_a_heic_original_is_served_in_every_variant(
    server: RunningServer, client: httpx.Client
) -> None:
    (server.origin / "phone.heic").write_bytes(heic(pillow_of(read_photo("rocket"))))
    for options, media_type in (
        ("width=320", "image/jpeg"),  # browsers cannot show HEIC: JPEG
        ("width=320,format=webp", "image/webp"),
        ("width=320,format=avif", "image/avif"),
        ("width=320,height=320,fit=cover,format=png", "image/png"),
    ):
        response = client.get(f"/cdn-cgi/image/{options}/phone.heic")
        assert response.status_code == 200, (options, response.text)
        assert response.headers["content-type"] == media_type
        assert image_size(response)[0] == 320
    (server.origin / "group.heic").write_bytes(heic(pillow_of(read_photo("multi_face"))))
    faces = client.get("/cdn-cgi/image/w=200,h=200,fit=cover,gravity=face/group.heic")
    assert faces.status_code == 200, faces.text
    assert "faces=5" in faces.headers["focal-gravity"]
    facts = client.get("/cdn-cgi/image/width=320,format=json/phone.heic").json()
    assert facts["original"]["format"] == "image/heic"
