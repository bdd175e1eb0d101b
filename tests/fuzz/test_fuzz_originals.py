"""Random bytes behind image magic numbers, and damaged real images, as originals: in the
origin folder, as hosted uploads, and as Images API inputs."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from conftest import RunningServer, read_photo
from fuzzing import (
    AUTH,
    FUZZ,
    ORIGINALS,
    check_refusal_changed_nothing,
    module_server,
    stored_state,
)

MAGIC = [
    b"\xff\xd8\xff\xe0",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x1cftypavif",
    b"\x00\x00\x00\x18ftypheic",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",
    b"<svg",
    b"BM",
]
REAL = [*ORIGINALS.values(), read_photo("chelsea")]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real image cut short, with bytes flipped, or with its middle replaced."""
    data = bytearray(draw(st.sampled_from(REAL)))
    how = draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(min_value=1, max_value=len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            index = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data[index] ^= draw(st.integers(min_value=1, max_value=255))
        return bytes(data)
    start = draw(st.integers(min_value=0, max_value=len(data) - 1))
    return bytes(data[:start]) + draw(st.binary(max_size=64)) + bytes(data[start + 64 :])


originals = st.one_of(
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=256)).map(b"".join),
    damaged(),
    st.binary(max_size=64),
)
options = st.sampled_from(
    [
        "w=40",
        "w=40,f=webp",
        "format=json",
        "gravity=face,w=30,h=30,fit=cover",
        "f=gif",
        "anim=false",
    ]
)


server = module_server()


@FUZZ
@given(data=originals, option_text=options)
def test_random_originals_in_the_origin_folder(
    server: RunningServer, data: bytes, option_text: str
) -> None:
    name = f"fuzzed-{hashlib.sha256(data).hexdigest()[:16]}.img"
    (server.origin / name).write_bytes(data)
    with server.client() as client:
        before = stored_state(server, client)
        response = client.get(f"/cdn-cgi/image/{option_text}/{name}")
        check_refusal_changed_nothing(server, client, before, response)


@FUZZ
@given(data=originals)
def test_random_originals_as_uploads(server: RunningServer, data: bytes) -> None:
    with server.client() as client:
        before = stored_state(server, client)
        response = client.post("/images/v1", headers=AUTH, files={"file": ("x.jpg", data)})
        check_refusal_changed_nothing(server, client, before, response)
        if response.status_code == 200:  # what was accepted can be read back, whole
            image_id = response.json()["result"]["id"]
            blob = client.get(f"/images/v1/{image_id}/blob", headers=AUTH)
            assert blob.content == data
            assert client.delete(f"/images/v1/{image_id}", headers=AUTH).status_code == 200


@FUZZ
@given(data=originals)
def test_random_originals_as_images_api_inputs(server: RunningServer, data: bytes) -> None:
    with server.client() as client:
        before = stored_state(server, client)
        response = client.post("/info", headers=AUTH, files={"input-0": ("input-0", data)})
        check_refusal_changed_nothing(server, client, before, response)


@FUZZ
@given(
    original=st.sampled_from(REAL),
    cut=st.floats(min_value=0.0, max_value=1.0),
    option_text=options.filter(lambda text: text != "format=json"),
)
def test_an_original_cut_short_is_never_served_as_an_image(
    server: RunningServer, original: bytes, cut: float, option_text: str
) -> None:
    """Anything more than a PNG's closing chunk (12 bytes) missing, and the pixels are not all
    there: refused, not filled in with grey. (format=json reads only the header.)"""
    data = original[: int((len(original) - 13) * cut)]
    name = f"cut-{hashlib.sha256(data).hexdigest()[:16]}.img"
    (server.origin / name).write_bytes(data)
    with server.client() as client:
        before = stored_state(server, client)
        response = client.get(f"/cdn-cgi/image/{option_text}/{name}")
        check_refusal_changed_nothing(server, client, before, response)
        assert response.status_code in (415, 422), response.status_code
