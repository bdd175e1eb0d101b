"""Faces hidden from code: the SDK's chains take face_blur and face_pixelate, embedded and
against a server alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pyvips

from conftest import RunningServer
from face_marks import GROUP, corners_kept, labelled, marked
from focal import Images
from focal.errors import OptionError

TOKEN = "sdk-faces-token"


def _pixelated_avatar(images: Images, data: bytes) -> bytes:
    return (
        images.input(data)
        .transform(width=300, height=300, fit="cover", gravity="face", face_pixelate=20)
        .output(format="png")
        .bytes()
    )


def test_embedded_and_remote_hide_the_same_faces(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(api_tokens=(TOKEN,))
    data, faces = labelled(GROUP)
    painted = marked(data, faces)
    plain = Images().input(painted).transform(width=300, height=300, fit="cover", gravity="face")
    assert corners_kept(plain.output(format="png").bytes(), faces) == [4, 4, 4, 4, 4]
    embedded = _pixelated_avatar(Images(), painted)
    assert corners_kept(embedded, faces) == [0, 0, 0, 0, 0]
    with Images(server.url, token=TOKEN) as remote:
        assert _pixelated_avatar(remote, painted) == embedded


def test_a_blur_later_in_a_chain_hides_the_faces_where_they_are_then() -> None:
    data, faces = labelled(GROUP)
    painted = marked(data, faces)
    result = (
        Images()
        .input(painted)
        .transform(rotate=90)
        .transform(width=400, face_blur=25)
        .output(format="png")
    )
    image = pyvips.Image.new_from_buffer(result.bytes(), "")
    assert (image.width, image.height) == (400, 600)
    assert corners_kept(result.bytes(), faces) == [0, 0, 0, 0, 0]


def test_both_at_once_is_refused_while_chaining() -> None:
    with pytest.raises(OptionError, match="not both"):
        Images().input(b"never decoded").transform(face_blur=10, face_pixelate=10)
