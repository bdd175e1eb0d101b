"""Encoding on real pixels: every format really is that format, quality, compression, and the
metadata each format keeps.
"""

from __future__ import annotations

import pytest
import pyvips

from focal.errors import FocalError, OptionError
from focal.options import parse_options
from focal.pipeline import Limits, SourceInfo, url_output
from focal.pipeline.encode import JPEG_OR_PNG, choose_format
from imaging import (
    animated,
    coloured_frames,
    decode,
    gradient,
    mean_abs_diff,
    png,
    rgb,
)
from url_form import TOLERANCE, apply, magic_format, render

# --- metadata and orientation ---------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    image = gradient(200, 100).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", "Jane Doe 2024")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "FocalCam")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-ImageDescription", "a secret place")
    return bytes(image.jpegsave_buffer())


def exif_fields(data: bytes) -> dict[str, str]:
    image = decode(data)
    return {name: str(image.get(name)) for name in image.get_fields() if name.startswith("exif-")}


def test_metadata_keep_keeps_all_exif() -> None:
    fields = exif_fields(apply(jpeg_with_exif(), "metadata=keep,width=100").data)
    assert "FocalCam" in fields["exif-ifd0-Make"]
    assert "a secret place" in fields["exif-ifd0-ImageDescription"]
    assert "Jane Doe" in fields["exif-ifd0-Copyright"]


def test_metadata_copyright_keeps_only_the_copyright() -> None:
    for text in ("metadata=copyright,width=100", "width=100"):  # the default
        fields = exif_fields(apply(jpeg_with_exif(), text).data)
        assert "Jane Doe" in fields["exif-ifd0-Copyright"]
        assert "exif-ifd0-Make" not in fields
        assert "exif-ifd0-ImageDescription" not in fields


# Tags libexif adds when it reads any EXIF block (it "fixes" a block to the specification),
# so they show whether or not the file holds them.
LIBEXIF_FILL_INS = {
    "exif-ifd0-XResolution",
    "exif-ifd0-YResolution",
    "exif-ifd0-ResolutionUnit",
    "exif-ifd2-ExifVersion",
    "exif-ifd2-FlashpixVersion",
    "exif-ifd2-ColorSpace",
}


def camera_jpeg() -> bytes:
    """A JPEG with the EXIF a camera writes: owner, device, place, comments."""
    image = gradient(200, 100).copy()
    for name, value in (
        ("exif-ifd0-Copyright", "Jane Doe 2024"),
        ("exif-ifd0-Artist", "Jane Doe"),
        ("exif-ifd0-Make", "FocalCam"),
        ("exif-ifd0-Software", "FocalCam firmware 1.2"),
        ("exif-ifd2-UserComment", "at the lake"),
        ("exif-ifd3-GPSLatitudeRef", "N"),
    ):
        image.set_type(pyvips.GValue.gstr_type, name, value)
    return bytes(image.jpegsave_buffer())


def test_metadata_copyright_writes_nothing_but_the_copyright() -> None:
    for text in ("metadata=copyright,width=100", "width=100", "width=100,format=baseline-jpeg"):
        result = apply(camera_jpeg(), text).data
        fields = exif_fields(result)
        assert "Jane Doe 2024" in fields.pop("exif-ifd0-Copyright")
        assert set(fields) - {"exif-data"} <= LIBEXIF_FILL_INS, sorted(fields)
        block = bytes(decode(result).get("exif-data"))
        for secret in (b"FocalCam", b"lake", b"Jane Doe\0", b"GPS"):
            assert secret not in block
        assert decode(result).width == 100  # still a whole JPEG


def test_metadata_copyright_without_a_copyright_writes_no_exif() -> None:
    image = gradient(200, 100).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "FocalCam")
    result = apply(bytes(image.jpegsave_buffer()), "width=100").data
    assert decode(result).get_typeof("exif-data") == 0


def test_metadata_none_strips_exif() -> None:
    result = apply(jpeg_with_exif(), "metadata=none,width=100")
    assert decode(result.data).get_typeof("exif-data") == 0
    assert exif_fields(result.data) == {}


@pytest.mark.parametrize("fmt", ["webp", "png", "avif"])
def test_other_formats_never_carry_exif(fmt: str) -> None:
    result = apply(jpeg_with_exif(), f"metadata=keep,format={fmt}")
    assert decode(result.data).get_typeof("exif-data") == 0


# --- formats, quality, compression ----------------------------------------------------------
LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "webp": "webpload",
    "gif": "gifload",
    "avif": "heifload",
}


@pytest.mark.parametrize(
    ("fmt", "kind", "media_type"),
    [
        ("jpeg", "jpeg", "image/jpeg"),
        ("jpg", "jpeg", "image/jpeg"),
        ("baseline-jpeg", "jpeg", "image/jpeg"),
        ("png", "png", "image/png"),
        ("webp", "webp", "image/webp"),
        ("avif", "avif", "image/avif"),
        ("gif", "gif", "image/gif"),
    ],
)
def test_formats_are_really_that_format(photo, fmt: str, kind: str, media_type: str) -> None:
    result = apply(photo("chelsea"), f"width=200,format={fmt}")
    assert result.media_type == media_type
    assert magic_format(result.data) == kind
    image = decode(result.data)
    assert str(image.get("vips-loader")).startswith(LOADERS[kind])
    assert (image.width, image.height) == (200, 133)


def test_jpeg_is_progressive_and_baseline_jpeg_is_not(photo) -> None:
    progressive = apply(photo("chelsea"), "width=300,format=jpeg").data
    baseline = apply(photo("chelsea"), "width=300,format=baseline-jpeg").data
    assert b"\xff\xc2" in progressive and b"\xff\xc0" not in progressive
    assert b"\xff\xc0" in baseline and b"\xff\xc2" not in baseline
    # tiny outputs are baseline, as in the reference
    tiny = apply(photo("chelsea"), "width=40,format=jpeg").data
    assert b"\xff\xc0" in tiny and b"\xff\xc2" not in tiny


def test_compression_fast_writes_a_plain_baseline_jpeg(photo) -> None:
    fast = apply(photo("chelsea"), "width=300,format=jpeg,compression=fast").data
    normal = apply(photo("chelsea"), "width=300,format=jpeg").data
    assert magic_format(fast) == "jpeg"
    assert b"\xff\xc0" in fast and b"\xff\xc2" not in fast
    assert fast != normal
    assert mean_abs_diff(decode(fast), decode(normal)) < TOLERANCE
    webp = apply(photo("chelsea"), "width=300,format=webp,compression=fast")
    assert magic_format(webp.data) == "webp"


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_quality_changes_the_size(photo, fmt: str) -> None:
    data = photo("chelsea")
    low = apply(data, f"width=300,format={fmt},quality=20").data
    default = apply(data, f"width=300,format={fmt}").data
    high = apply(data, f"width=300,format={fmt},quality=95").data
    assert len(low) < len(default) < len(high)
    assert (
        apply(data, f"width=300,format={fmt},q=low").data
        == apply(data, f"width=300,format={fmt},q=50").data
    )


def test_webp_quality_100_is_lossless(photo) -> None:
    source = rgb(render(photo("chelsea"), "width=120,format=png"))
    lossless = decode(apply(photo("chelsea"), "width=120,format=webp,q=100").data)
    assert mean_abs_diff(lossless, source) == 0


def test_png_with_a_quality_is_a_palette_png() -> None:
    data = png(gradient(200, 100))
    plain = apply(data, "format=png")
    palette = apply(data, "format=png,quality=50")
    assert decode(palette.data).get_typeof("palette") and decode(palette.data).get("palette")
    assert not decode(plain.data).get_typeof("palette")
    assert len(palette.data) < len(plain.data)


def test_without_a_format_the_output_is_the_source_format(photo) -> None:
    assert apply(photo("chelsea"), "width=100").format == "png"
    assert apply(photo("rocket"), "width=100").format == "jpeg"
    assert apply(animated(coloured_frames(30, 20, 3)), "width=10").format == "gif"
    webp = bytes(gradient(60, 40).webpsave_buffer())
    assert apply(webp, "width=10").format == "webp"


# --- choosing the format: no request header reaches the pipeline ----------------------------


def _source(media_type: str) -> SourceInfo:
    return SourceInfo(media_type, 10, 10, 1, False, 100, 1)


@pytest.mark.parametrize(
    ("requested", "source", "alpha", "moving", "expected"),
    [
        (JPEG_OR_PNG, "image/webp", False, False, "jpeg"),
        (JPEG_OR_PNG, "image/webp", True, False, "png"),
        (None, "image/gif", True, False, "gif"),
        (None, "image/tiff", False, False, "jpeg"),  # browsers do not show TIFF
        (None, "image/tiff", True, False, "png"),
        ("avif", "image/png", False, True, "webp"),  # the encoder writes no AVIF animation
        ("baseline-jpeg", "image/png", True, False, "baseline-jpeg"),
    ],
)
def test_the_written_format(
    requested: str | None, source: str, alpha: bool, moving: bool, expected: str
) -> None:
    chosen = choose_format(requested, _source(source), keeps_alpha=alpha, animated=moving)
    assert chosen == expected


def test_an_avif_above_the_cap_is_written_as_webp() -> None:
    data = png(gradient(200, 100))  # 20,000 px
    small = apply(data, "format=avif", Limits(max_avif_pixels=20_000))
    assert (small.format, small.media_type, small.fallback_from) == ("avif", "image/avif", None)
    assert magic_format(small.data) == "avif"
    large = apply(data, "format=avif", Limits(max_avif_pixels=19_999))
    assert (large.format, large.media_type, large.fallback_from) == ("webp", "image/webp", "avif")
    assert magic_format(large.data) == "webp"
    # the size that counts is the result's, not the original's
    shrunk = apply(data, "format=avif,width=100", Limits(max_avif_pixels=19_999))
    assert shrunk.format == "avif"
    # other formats have no such cap
    assert apply(data, "format=png", Limits(max_avif_pixels=1)).format == "png"


def test_format_auto_must_be_negotiated_before_the_pipeline() -> None:
    with pytest.raises(FocalError) as caught:
        choose_format("auto", _source("image/png"), keeps_alpha=False, animated=False)
    assert caught.value.status == 400 and "Accept" in caught.value.message
    with pytest.raises(OptionError, match="format=auto needs the client's Accept header"):
        url_output(parse_options("format=auto"))
    assert url_output(parse_options("format=auto"), negotiated="webp").format == "webp"
    assert url_output(parse_options("format=png"), negotiated="webp").format == "png"
