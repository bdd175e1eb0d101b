"""The JPEG decoding scale: 1/8 where a lossy result hides the difference, thumbnail's own
choice where detail is asked to be kept; the result's size is exact either way."""

from __future__ import annotations

from typing import Any

import pytest
import pyvips

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.options import parse_options
from focal.pipeline import OutputSpec, probe, run, url_operations
from focal.pipeline.encode import writes_lossy
from focal.pipeline.executor import _jpeg_shrink_on_load
from imaging import decode, mean_abs_diff

NATURE = "nature-1"  # 4896×3264


@pytest.mark.parametrize(
    ("shrink", "expected"),
    [
        (12.24, 8),  # thumbnail would decode at 1/4
        (6.4, 4),  # thumbnail: 1/2
        (3.5, 2),  # thumbnail: whole
        (4.8, 1),  # 1/4 would be a pixel short (int(4.8) == 4): 1/2, as thumbnail does
        (8.0, 1),  # the same at 1/8: 1/4, as thumbnail does
        (2.5, 1),
        (20.0, 1),  # thumbnail decodes at 1/8 already
        (1.0, 1),
    ],
)
def test_the_decoding_scale_leaves_a_factor_of_one_to_the_resize(
    shrink: float, expected: int
) -> None:
    source = probe(read_photo(NATURE))
    assert _jpeg_shrink_on_load(source, shrink) == expected


def test_only_jpeg_originals_decode_at_a_scale_of_their_own() -> None:
    source = probe(read_photo("chelsea"))  # PNG
    assert _jpeg_shrink_on_load(source, 12.0) == 1


@pytest.mark.parametrize(
    ("requested", "quality", "lossy"),
    [
        ("jpeg", 80, True),
        ("baseline-jpeg", None, True),  # the default quality, 85
        (None, None, True),  # like a JPEG original: JPEG
        ("webp", 89, True),
        ("webp", 90, False),
        ("avif", 100, False),
        ("png", None, False),
        ("gif", None, False),
    ],
)
def test_lossy_results_below_quality_90_take_the_faster_scale(
    requested: str | None, quality: int | None, lossy: bool
) -> None:
    assert writes_lossy(requested, quality) is lossy


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records the arguments of every direct JPEG load."""
    calls: list[dict[str, Any]] = []
    load = pyvips.Image.jpegload_source

    def recording(source: pyvips.Source, **kwargs: Any) -> pyvips.Image:
        calls.append(kwargs)
        return load(source, **kwargs)

    monkeypatch.setattr(pyvips.Image, "jpegload_source", recording)
    return calls


def _result(quality: int) -> pyvips.Image:
    operations = url_operations(parse_options("width=400"))
    output = run(read_photo(NATURE), operations, OutputSpec(format="jpeg", quality=quality))
    assert (output.width, output.height) == (400, 267)
    return decode(output.data)


def test_a_big_jpeg_for_a_small_lossy_result_is_decoded_at_one_eighth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _loads(monkeypatch)
    fast = _result(quality=80)
    assert [call["shrink"] for call in calls] == [8]
    exact = _result(quality=95)  # thumbnail's own scale (1/4)
    assert len(calls) == 1
    # The same picture: the difference is below what quality 80 changes anyway.
    assert (fast.width, fast.height) == (exact.width, exact.height)
    assert mean_abs_diff(fast, exact) < 2.5


def test_a_truncated_original_fails_at_the_faster_scale_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _loads(monkeypatch)
    data = read_photo(NATURE)
    operations = url_operations(parse_options("width=400"))
    with pytest.raises(FocalError) as refused:
        run(data[: len(data) // 2], operations, OutputSpec(format="jpeg", quality=80))
    assert calls and calls[0]["shrink"] == 8
    assert refused.value.kind is ErrorKind.PROCESSING_FAILED
    assert "truncated" in refused.value.message


def _cmyk() -> bytes:
    photo = pyvips.Image.new_from_buffer(read_photo(NATURE), "")
    return bytes(photo.icc_transform("cmyk").jpegsave_buffer(Q=90))


def _turned() -> bytes:
    photo = pyvips.Image.new_from_buffer(read_photo(NATURE), "").copy()
    photo.set_type(pyvips.GValue.gint_type, "orientation", 6)  # shown turned a quarter
    return bytes(photo.jpegsave_buffer(Q=90))


@pytest.mark.parametrize(
    ("original", "width", "size"),
    [(_cmyk, 400, (400, 267)), (_turned, 300, (300, 450))],  # 300: 3264 px wide as shown
    ids=["cmyk", "exif-6"],
)
def test_cmyk_and_turned_originals_come_out_alike_at_either_scale(
    monkeypatch: pytest.MonkeyPatch, original: Any, width: int, size: tuple[int, int]
) -> None:
    calls = _loads(monkeypatch)
    data = original()
    operations = url_operations(parse_options(f"width={width}"))
    fast = run(data, operations, OutputSpec(format="jpeg", quality=80))
    exact = run(data, operations, OutputSpec(format="jpeg", quality=95))
    assert [call["shrink"] for call in calls] == [8]
    assert (fast.width, fast.height) == (exact.width, exact.height) == size
    fast_pixels, exact_pixels = decode(fast.data), decode(exact.data)
    assert fast_pixels.interpretation == "srgb" and fast_pixels.bands == 3
    assert mean_abs_diff(fast_pixels, exact_pixels) < 2.5
