"""HEIC originals, as phones write them: made here with pillow-heif (which encodes HEVC),
decoded through the pipeline in every output format, behind the limits."""

from __future__ import annotations

import io

import pillow_heif
import pytest
import pyvips
from PIL import Image

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.pipeline import Limits, check_decodes, executor, probe
from imaging import heic, mean_abs_diff, pillow_of
from url_form import apply, render, sizes_of


def as_vips(picture: Image.Image) -> pyvips.Image:
    return pyvips.Image.new_from_memory(
        picture.tobytes(), picture.width, picture.height, 3, "uchar"
    )


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_a_heic_photo_is_served_in_every_format(fmt: str) -> None:
    data = heic(pillow_of(read_photo("rocket")))  # rocket: 640×427
    assert probe(data).format == "image/heic"
    result = apply(data, f"width=320,format={fmt}")
    assert result.format == fmt
    image = pyvips.Image.new_from_buffer(result.data, "")
    assert (image.width, image.height) == (320, 214)
    expected = as_vips(pillow_of(read_photo("rocket"))).resize(0.5)
    assert mean_abs_diff(image.flatten() if image.hasalpha() else image, expected) < 6


def test_a_heic_keeps_its_format_family_when_none_is_asked() -> None:
    result = apply(heic(pillow_of(read_photo("rocket"))), "width=100")  # browsers cannot show HEIC
    assert result.format == "jpeg"


def test_the_orientation_of_a_photo_taken_sideways_is_applied() -> None:
    picture = Image.new("RGB", (300, 200), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 100, 50))  # blue at the top left
    data = heic(picture, orientation=6)  # shown turned 90° clockwise
    assert (probe(data).width, probe(data).height) == (200, 300)
    image = render(data, "format=png")
    assert (image.width, image.height) == (200, 300)
    assert image.getpoint(190, 10)[:3] == pytest.approx([0, 0, 255], abs=12)  # now top right
    assert image.getpoint(10, 10)[:3] == pytest.approx([255, 0, 0], abs=12)
    assert sizes_of(data, "width=100") == (100, 150)


def test_a_multi_image_heic_is_its_primary_image() -> None:
    primary = pillow_of(read_photo("rocket"))
    data = heic(primary, Image.new("RGB", (64, 64), (0, 255, 0)))
    assert len(pillow_heif.open_heif(io.BytesIO(data))) == 2
    image = render(data, "format=png")
    assert (image.width, image.height) == (640, 427)
    assert mean_abs_diff(image, as_vips(primary)) < 6
    trimmed = render(data, "trim=10;20;30;40,format=png")  # operations that need pixels
    assert (trimmed.width, trimmed.height) == (580, 387)


def test_the_limits_are_checked_from_the_header_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = heic(pillow_of(read_photo("rocket")))

    def no_decode(data: bytes) -> pyvips.Image:
        raise AssertionError("decoded before the limits were checked")

    monkeypatch.setattr(executor, "decode_heic", no_decode)
    with pytest.raises(FocalError) as caught:
        apply(data, "width=100,format=jpeg", Limits(max_pixels=640 * 427 - 1))
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE and "273,280" in caught.value.message
    monkeypatch.undo()
    assert check_decodes(data).width == 640  # an upload decodes whole


def test_a_damaged_heic_is_refused_not_a_crash() -> None:
    data = heic(pillow_of(read_photo("rocket")))
    with pytest.raises(FocalError) as caught:
        apply(data[:-100], "width=100,format=jpeg")  # cut short
    assert 400 <= caught.value.status < 500
