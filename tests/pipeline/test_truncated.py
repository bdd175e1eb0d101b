"""Originals that do not decode completely are refused (422), never served padded with grey."""

from __future__ import annotations

import pytest
import pyvips

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.options import parse_options
from focal.pipeline import OutputSpec, check_decodes, probe, run, url_operations
from focal.pipeline.compose import run_composed
from focal.pipeline.operations import operation_from_dict
from imaging import animated


def single_gif() -> bytes:
    photo = pyvips.Image.new_from_buffer(read_photo("astronaut"), "").resize(0.5)
    return bytes(photo.gifsave_buffer())


def animated_gif() -> bytes:
    photo = pyvips.Image.new_from_buffer(read_photo("astronaut"), "")
    return animated([photo.crop(index * 60, index * 40, 160, 160) for index in range(5)])


WHOLE = {
    "jpeg": lambda: read_photo("biden"),
    "png": lambda: read_photo("chelsea"),
    "gif": single_gif,
    "animated gif": animated_gif,
}
# Cuts past the header (a header cut short is no image at all: 415, as for any bytes).
CUTS = [0.25, 0.5, 0.9]


def cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


@pytest.mark.parametrize("fraction", CUTS)
@pytest.mark.parametrize("kind", sorted(WHOLE))
def test_a_truncated_original_is_not_transformed(kind: str, fraction: float) -> None:
    data = cut(WHOLE[kind](), fraction)
    operations = url_operations(parse_options("width=120"))
    with pytest.raises(FocalError) as refused:
        run(data, operations, OutputSpec(format="png"))
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED
    assert (refused.value.status, refused.value.code) == (422, 9516)
    assert "truncated" in refused.value.message


@pytest.mark.parametrize("kind", sorted(WHOLE))
def test_a_truncated_original_is_not_transformed_at_full_size(kind: str) -> None:
    """No shrink-on-load either: the plain loader fails on truncation too."""
    data = cut(WHOLE[kind](), 0.9)
    with pytest.raises(FocalError) as refused:
        run(data, [], OutputSpec(format="png"))
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED


@pytest.mark.parametrize("kind", sorted(WHOLE))
def test_a_truncated_overlay_is_not_drawn(kind: str) -> None:
    base = read_photo("coffee")
    draw = operation_from_dict(
        {"op": "draw", "input": 1, "operations": [{"op": "resize", "width": 50}]}
    )
    with pytest.raises(FocalError) as refused:
        run_composed([base, cut(WHOLE[kind](), 0.9)], [draw], OutputSpec(format="png"))
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED


@pytest.mark.parametrize("fraction", CUTS)
@pytest.mark.parametrize("kind", sorted(WHOLE))
def test_the_upload_check_decodes_every_pixel(kind: str, fraction: float) -> None:
    whole = WHOLE[kind]()
    assert check_decodes(whole) == probe(whole)
    with pytest.raises(FocalError) as refused:
        check_decodes(cut(whole, fraction))
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED
    assert "truncated" in refused.value.message


@pytest.mark.parametrize("kind", sorted(WHOLE))
def test_whole_originals_still_transform(kind: str) -> None:
    output = run(WHOLE[kind](), url_operations(parse_options("width=120")), OutputSpec())
    assert output.width == 120


def test_the_first_two_percent_of_a_large_jpeg_is_refused() -> None:
    """The issue's case: the header is whole, nearly every pixel missing."""
    photo = pyvips.Image.new_from_buffer(read_photo("astronaut"), "").resize(4)
    data = bytes(photo.jpegsave_buffer(Q=90))
    with pytest.raises(FocalError) as refused:
        run(cut(data, 0.02), url_operations(parse_options("width=300")), OutputSpec())
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED


def test_bytes_that_are_no_image_stay_415() -> None:
    with pytest.raises(FocalError) as refused:
        probe(b"certainly not an image, only text")
    assert refused.value.kind is ErrorKind.NOT_AN_IMAGE
