"""Faces over HTTP with the real detector: hidden in URLs and variants, whole in banners."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import pyvips

from conftest import RunningServer, running_server, server_settings
from face_marks import GROUP, corners_kept, labelled, marked
from focal.faces import DetectorPool
from focal.pipeline import Box
from hosted_http import AUTH, TOKEN, Start, ok, upload

LAPLACIAN = pyvips.Image.new_from_array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def _fine_detail(data: bytes, box: Box) -> pyvips.Image:
    grey = pyvips.Image.new_from_buffer(data, "").colourspace("b-w")[0].cast("float")
    area = grey.crop(int(box.left), int(box.top), int(box.width), int(box.height))
    return area.conv(LAPLACIAN, precision="float")


def _kept_detail(before: bytes, after: bytes, box: Box) -> float:
    """The share of the high-frequency energy of `before` in `box` still there in `after`."""
    old, new = _fine_detail(before, box), _fine_detail(after, box)
    return float((old * new).avg()) / float((old * old).avg())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("faces-http")
    settings = server_settings(data_dir, api_tokens=(TOKEN,), flexible_variants=True)
    with running_server(settings) as running:
        data, faces = labelled(GROUP)
        (running.origin / "group.jpg").write_bytes(data)
        (running.origin / "marked.png").write_bytes(marked(data, faces))
        yield running


def test_url_option_blurs_every_detected_face(server: RunningServer) -> None:
    _, faces = labelled(GROUP)
    with server.client() as client:
        plain = client.get(server.image_url("w=500,f=png", "group.jpg"))
        hidden = client.get(server.image_url("w=500,f=png,face-blur=20", "group.jpg"))
        again = client.get(server.image_url("w=500,f=png,face-blur=20", "group.jpg"))
    assert hidden.status_code == 200, hidden.text
    assert hidden.headers["focal-faces"] == "faces=5; from=detected"
    assert again.headers["focal-faces"] == "faces=5; from=cache"
    assert "focal-gravity" not in hidden.headers
    for face in faces:
        assert _kept_detail(plain.content, hidden.content, face.scaled(0.5, 0.5)) < 0.2
    background = Box(0, 250, 90, 80)
    assert _kept_detail(plain.content, hidden.content, background) == pytest.approx(1.0)


def test_banner_keeps_the_row_of_four_whole_with_detected_boxes(server: RunningServer) -> None:
    _, faces = labelled(GROUP)
    with server.client() as client:
        banner = client.get(server.image_url("w=900,h=200,fit=cover,g=face,f=png", "marked.png"))
        strip = client.get(server.image_url("w=200,h=900,fit=cover,g=face,f=png", "marked.png"))
        both = client.get(
            server.image_url("w=900,h=200,fit=cover,g=face,face-pixelate=20,f=png", "marked.png")
        )
    assert banner.headers["focal-gravity"].startswith("face; faces=5")
    # Labelled faces, judged by their marks: the row whole, the face at the back left out.
    assert corners_kept(banner.content, faces) == [0, 4, 4, 4, 4]
    assert corners_kept(strip.content, faces) == [0, 0, 0, 0, 4]
    assert corners_kept(both.content, faces) == [0, 0, 0, 0, 0]  # there, but pixelated


def test_a_hosted_variant_pixelates_the_faces(server: RunningServer) -> None:
    data, faces = labelled(GROUP)
    with server.client() as client:
        ok(upload(client, data, id="private-group"))
        variant = {"id": "anonymous", "options": {"width": 500, "face_pixelate": 10}}
        ok(client.post("/images/v1/variants", headers=AUTH, json=variant))
        shown = ok(client.get("/images/v1/variants/anonymous", headers=AUTH))
        hidden = client.get("/images/private-group/anonymous")
        plain = client.get("/images/private-group/w=500")
    assert shown["variant"]["options"]["face-pixelate"] == 10
    assert hidden.status_code == 200 and hidden.headers["content-type"] == "image/jpeg"
    for face in faces:
        assert _kept_detail(plain.content, hidden.content, face.scaled(0.5, 0.5)) < 0.2


def test_without_a_detector_the_faces_are_refused_not_shown(
    start_server: Start,
) -> None:
    server = start_server()
    data, _ = labelled(GROUP)
    (server.origin / "group.jpg").write_bytes(data)
    closed = DetectorPool()
    closed.close()
    faces = server.parts.faces
    running, faces.pool = faces.pool, closed
    asyncio.run_coroutine_threadsafe(running.aclose(), server.loop).result(30)
    with server.client() as client:
        refused = client.get(server.image_url("w=300,face-blur=20", "group.jpg"))
        centred = client.get(server.image_url("w=300,h=300,fit=cover,g=face", "group.jpg"))
    assert refused.status_code == 503
    assert "faces can't be blurred" in refused.text
    assert centred.status_code == 200  # a crop may fall back to the centre; hiding may not
