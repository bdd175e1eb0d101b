"""The executor on real originals: animation, orientation, unusual originals, measuring
(format=json) and the limits on originals and results.
"""

from __future__ import annotations

import gc
import struct
import zlib
from dataclasses import dataclass
from typing import ClassVar

import pytest
import pyvips

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.pipeline import Limits, probe, run
from focal.pipeline.executor import OutputSpec, _load_scale
from focal.pipeline.executor import render as render_image
from focal.pipeline.frames import Canvas
from focal.pipeline.operations import BlurOp, FlipOp, Operation, operation_from_dict
from imaging import (
    animated,
    band_means,
    coloured_frames,
    decode,
    gradient,
    marked,
    mean_abs_diff,
    png,
    red_corner,
    region_colour,
    rgb,
)
from url_form import apply, magic_format, render, sizes_of

# --- animation ------------------------------------------------------------------------------


def frames_of(data: bytes) -> list[pyvips.Image]:
    image = decode(data, all_frames=magic_format(data) in ("gif", "webp"))
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    height = image.height // pages
    return [image.crop(0, index * height, image.width, height) for index in range(pages)]


def dominant(frame: pyvips.Image) -> list[int]:
    return [round(value) for value in band_means(rgb(frame))]


@pytest.mark.parametrize("saver", ["gifsave_buffer", "webpsave_buffer"])
@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_animations_stay_animated(saver: str, fmt: str) -> None:
    source_frames = coloured_frames(60, 40, 4)
    data = animated(source_frames, saver)
    assert probe(data).pages == 4
    result = apply(data, f"width=30,format={fmt}")
    assert (result.format, result.pages) == (fmt, 4)
    frames = frames_of(result.data)
    assert len(frames) == 4
    for frame, source in zip(frames, source_frames, strict=True):
        assert (frame.width, frame.height) == (30, 20)
        assert dominant(frame) == pytest.approx(dominant(source), abs=12)


def test_anim_false_gives_the_first_frame_only() -> None:
    source_frames = coloured_frames(60, 40, 3)
    for saver in ("gifsave_buffer", "webpsave_buffer"):
        data = animated(source_frames, saver)
        for fmt in ("webp", "gif"):
            result = apply(data, f"anim=false,format={fmt}")
            frames = frames_of(result.data)
            assert result.pages == 1 and len(frames) == 1
            assert dominant(frames[0]) == pytest.approx(dominant(source_frames[0]), abs=12)


def test_animation_to_a_still_format_gives_the_first_frame() -> None:
    source_frames = coloured_frames(60, 40, 3)
    data = animated(source_frames)
    for fmt in ("png", "jpeg"):
        frames = frames_of(apply(data, f"format={fmt}").data)
        assert len(frames) == 1
        assert dominant(frames[0]) == pytest.approx(dominant(source_frames[0]), abs=12)
    # AVIF cannot animate: an animation asked for as AVIF stays moving, as WebP
    moving = apply(data, "format=avif")
    assert (moving.format, moving.pages) == ("webp", 3)


def test_animated_crop_and_options_apply_to_every_frame() -> None:
    frames = [gradient(80, 40).flip("horizontal" if i % 2 else "vertical") for i in range(3)]
    data = animated(frames, "webpsave_buffer")
    result = apply(data, "w=20,h=20,fit=cover,gravity=left,rotate=180,format=webp")
    out = frames_of(result.data)
    assert len(out) == 3
    for frame in out:
        assert (frame.width, frame.height) == (20, 20)


def oriented_jpeg(orientation: int) -> bytes:
    """The `marked` image stored as is, with an EXIF orientation tag saying how to show it."""
    image = marked(120, 80).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return bytes(image.jpegsave_buffer(Q=95))


@pytest.mark.parametrize(
    ("orientation", "size", "corner"),
    [
        (1, (120, 80), "top-left"),
        (3, (120, 80), "bottom-right"),
        (6, (80, 120), "top-right"),
        (8, (80, 120), "bottom-left"),
    ],
)
@pytest.mark.parametrize("text", ["format=png", "format=jpeg,metadata=keep", "blur=0.5,format=png"])
def test_exif_orientation_is_always_applied(
    orientation: int, size: tuple[int, int], corner: str, text: str
) -> None:
    data = oriented_jpeg(orientation)
    assert (probe(data).width, probe(data).height) == size
    image = render(data, text)
    assert (image.width, image.height) == size
    assert red_corner(image) == corner
    # and the result does not ask to be turned again
    if image.get_typeof("orientation"):
        assert image.get("orientation") == 1


@pytest.mark.parametrize(
    ("text", "size", "corner"),
    [
        ("width=40,format=png", (40, 60), "top-right"),
        ("w=40,h=40,fit=cover,gravity=top,format=png", (40, 40), "top-right"),
        ("rotate=90,format=png", (120, 80), "bottom-right"),
        ("trim=0;0;0;20,format=png", (60, 120), "top-right"),
        ("trim=0;0;60;0,width=40,format=png", (40, 30), "top-right"),
    ],
)
def test_orientation_comes_before_every_option(
    text: str, size: tuple[int, int], corner: str
) -> None:
    data = oriented_jpeg(6)  # shown as 80×120 with the red square top-right
    image = render(data, text)
    assert (image.width, image.height) == size
    assert red_corner(image) == corner
    assert sizes_of(data, text.replace(",format=png", "")) == size


# --- unusual originals ----------------------------------------------------------------------


def unusual_originals() -> dict[str, bytes]:
    small = gradient(64, 48)
    grey = small.colourspace("b-w")
    cmyk = small.icc_transform("cmyk", embedded=False)
    return {
        "16-bit RGB PNG": bytes(
            (small.cast("ushort") * 257)
            .cast("ushort")
            .copy(interpretation="rgb16")
            .pngsave_buffer()
        ),
        "16-bit grey PNG": bytes(
            (grey.cast("ushort") * 257)
            .cast("ushort")
            .copy(interpretation="grey16")
            .pngsave_buffer()
        ),
        "grey + alpha PNG": png(grey.bandjoin(200).cast("uchar")),
        "palette PNG": bytes(small.pngsave_buffer(palette=True)),
        "CMYK JPEG": bytes(cmyk.jpegsave_buffer(Q=95)),
        "1×1 PNG": png(gradient(1, 1)),
        "1×300 PNG": png(gradient(1, 300)),
        "TIFF": bytes(small.tiffsave_buffer()),
        "AVIF": bytes(small.heifsave_buffer(compression="av1")),
        "WebP with alpha": bytes(small.bandjoin(128).cast("uchar").webpsave_buffer()),
        "still GIF": bytes(small.gifsave_buffer()),
    }


UNUSUAL_OPTIONS = [
    "format=jpeg",
    "format=webp",
    "w=20,h=20,fit=cover,g=auto,format=png",
    "w=100,h=100,fit=pad,background=red,format=png",
    "saturation=0,brightness=1.2,contrast=1.2,gamma=0.8,blur=1,sharpen=1,format=png",
    "trim=border,trim.border.color=white,format=png",
    "trim=border,rotate=270,flip=h,background=rgba(0,0,255,0.5),format=webp",
]


@pytest.mark.parametrize("name", sorted(unusual_originals()))
def test_unusual_originals_go_through_every_step(name: str) -> None:
    data = unusual_originals()[name]
    for text in UNUSUAL_OPTIONS:
        result = apply(data, text)
        image = decode(result.data)
        assert (image.width, image.height) == (result.width, result.height), text
        assert sizes_of(data, text) == (result.width, result.height), text
        assert magic_format(result.data) == result.format, text


def test_a_cmyk_jpeg_is_delivered_in_srgb() -> None:
    source = gradient(64, 48)
    data = unusual_originals()["CMYK JPEG"]
    assert decode(data).interpretation == "cmyk"
    for text in ("format=jpeg", "format=png", "w=32,format=png", "w=64,h=64,fit=pad,format=png"):
        image = decode(apply(data, text).data)
        assert image.interpretation == "srgb" and image.bands == 3, text
    padded = decode(apply(data, "w=64,h=64,fit=pad,background=red,format=png").data)
    assert region_colour(padded, 30, 0, 4) == pytest.approx([255, 0, 0], abs=2)
    # the colours survive the trip through CMYK to within its gamut's rounding
    assert mean_abs_diff(padded.crop(0, 8, 64, 48), source) < 15


# --- format=json sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "width=300",
        "w=300,h=300,fit=cover,g=auto",
        "w=300,h=300,fit=pad",
        "w=1920,h=1120,fit=aspect-crop",
        "w=50,h=300,fit=crop",
        "rotate=90,w=100",
        "trim=10;20;30;40,w=200,h=100,fit=squeeze",
        "trim=border,w=50",
        "w=128,dpr=1.5,fit=contain",
        "h=100,fit=scale-up",
        "flip=hv,w=77",
    ],
)
def test_json_sizes_equal_the_real_output(photo, text: str) -> None:
    for data in (photo("multi_face"), photo("chelsea"), oriented_jpeg(6)):
        result = apply(data, text + ",format=png")
        image = decode(result.data)
        assert sizes_of(data, text) == (image.width, image.height) == (result.width, result.height)


def test_json_sizes_of_an_animation_are_per_frame() -> None:
    data = animated(coloured_frames(60, 40, 4))
    assert sizes_of(data, "width=30") == (30, 20)
    assert sizes_of(data, "width=30,anim=false") == (30, 20)


# --- limits ---------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width×height but carries almost no pixel data: it cannot be decoded,
    so refusing it with the right error proves the refusal came from the header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_header_only(20000, 20000)
    assert len(bomb) < 200
    with pytest.raises(pyvips.Error):  # decoding even its first row fails: it is only a header
        pyvips.Image.new_from_buffer(bomb, "", fail_on="truncated").crop(0, 0, 100, 1).avg()
    for call in (
        lambda: probe(bomb),
        lambda: apply(bomb, "width=100"),
        lambda: sizes_of(bomb, "width=100"),
    ):
        with pytest.raises(FocalError) as caught:
            call()
        assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
        assert (caught.value.code, caught.value.status) == (9413, 403)
        assert "20000" in caught.value.message


def test_too_many_pixels_is_refused_even_with_short_sides() -> None:
    bomb = png_header_only(11000, 11000)  # each side under 12,000, 121 megapixels in all
    with pytest.raises(FocalError) as caught:
        probe(bomb)
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "121,000,000" in caught.value.message
    with pytest.raises(FocalError, match="pixels"):
        probe(png(gradient(200, 100)), Limits(max_pixels=19_999))
    assert probe(png(gradient(200, 100)), Limits(max_pixels=20_000)).width == 200


def test_animation_frames_are_summed_against_the_area_limit() -> None:
    data = animated(coloured_frames(100, 100, 5))  # 10,000 px per frame, 50,000 in all
    assert probe(data, Limits(max_pixels=50_000)).pages == 5
    with pytest.raises(FocalError) as caught:
        probe(data, Limits(max_pixels=49_999))
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "5 frames" in caught.value.message
    with pytest.raises(FocalError):
        apply(data, "width=10,anim=false", limits=Limits(max_pixels=49_999))


def test_a_side_over_the_limit_is_refused() -> None:
    with pytest.raises(FocalError, match="longest side"):
        probe(png(gradient(300, 20)), Limits(max_side=299))


def test_a_result_over_the_side_limit_is_refused() -> None:
    data = png(gradient(300, 200))
    with pytest.raises(FocalError) as caught:
        apply(data, "width=600,fit=contain", limits=Limits(max_side=500))
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert apply(data, "width=500,fit=contain", limits=Limits(max_side=500)).width == 500


def test_a_source_over_the_byte_limit_is_refused() -> None:
    data = png(gradient(300, 200))
    with pytest.raises(FocalError) as caught:
        probe(data, Limits(max_bytes=len(data) - 1))
    assert (caught.value.kind, caught.value.status) == (ErrorKind.SOURCE_TOO_LARGE, 413)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world\n",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"\xff\xd8\xff\xe0",
        b"1 2 3\n4 5 6\n",
        b"<html><body>no</body></html>",
    ],
)
def test_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(FocalError) as caught:
        probe(data)
    assert (caught.value.code, caught.value.status) == (9412, 415)


def test_svg_is_refused_and_the_message_says_what_is_accepted() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
        b'<rect width="64" height="48" fill="red"/></svg>'
    )
    with pytest.raises(FocalError) as caught:
        probe(svg)
    assert (caught.value.code, caught.value.status) == (9412, 415)
    assert "SVG" not in caught.value.message  # it must not offer what it refuses
    for accepted in ("JPEG", "PNG", "WebP", "GIF", "AVIF"):
        assert accepted in caught.value.message


def test_a_truncated_image_fails_as_a_processing_error(photo) -> None:
    data = photo("chelsea")[:3000]
    with pytest.raises(FocalError) as caught:
        apply(data, "width=100")
    assert caught.value.kind in (ErrorKind.PROCESSING_FAILED, ErrorKind.NOT_AN_IMAGE)
    assert caught.value.status in (415, 422)


def test_a_result_over_the_area_limit_is_refused_before_it_is_made() -> None:
    still = png(gradient(60, 40))
    with pytest.raises(FocalError) as caught:
        apply(still, "w=12000,h=12000,fit=pad")  # 144 megapixels from a 2,400-pixel original
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "144,000,000" in caught.value.message
    with pytest.raises(FocalError, match="pixels"):
        sizes_of(still, "w=12000,h=12000,fit=pad")
    moving = animated(coloured_frames(60, 40, 3))
    with pytest.raises(FocalError, match="3 frames"):
        apply(moving, "w=600,fit=scale-up", limits=Limits(max_pixels=600 * 400 * 3 - 1))
    assert apply(moving, "w=600,fit=scale-up", limits=Limits(max_pixels=600 * 400 * 3)).pages == 3


# --- the executor reads what an operation says, never its class ------------------------------


def test_any_operation_that_sets_the_load_scale_is_decoded_shrunk_for(photo) -> None:
    """A step of its own kind, not a ResizeOp: the executor decodes for its scale."""
    @dataclass(frozen=True)
    class Narrow(Operation):
        """Scales to a width: decoding at its scale first changes nothing of the result."""

        name: ClassVar[str] = "narrow"
        sets_load_scale: ClassVar[bool] = True
        width: int

        def load_scale(self, canvas: Canvas) -> tuple[float, float]:
            scale = self.width / canvas.width
            return scale, scale

        def apply(self, canvas: Canvas) -> Canvas:
            return canvas.map_frames(lambda frame: frame.resize(self.width / frame.width))

    data = photo("rocket")
    source = probe(data)
    quarter = source.width // 4
    scale = quarter / source.width
    assert _load_scale([FlipOp("h"), Narrow(quarter)], source, None) == (scale, scale)
    output = run(data, [FlipOp("h"), Narrow(quarter)], OutputSpec(format="png"))
    assert output.width == quarter
    # a pixel step before it does not run on a shrunk original: decoding stays full
    assert _load_scale([BlurOp(2.0), Narrow(quarter)], source, None) == (1.0, 1.0)


@pytest.mark.parametrize("width", [None, 120])  # decoded whole, and shrunk on load
def test_a_decoded_original_keeps_its_bytes_while_its_pixels_are_read(width: int | None) -> None:
    """The original is read where it lies, not copied into libvips: an image returned before
    its pixels are computed (an overlay) keeps those bytes alive itself."""
    photo = pyvips.Image.new_from_buffer(read_photo("chelsea"), "")
    operations = [operation_from_dict({"op": "resize", "width": width})] if width else []
    expected = render_image(photo.jpegsave_buffer(Q=90), operations).avg()
    image = render_image(photo.jpegsave_buffer(Q=90), operations)  # nothing else holds them
    gc.collect()
    assert image.avg() == pytest.approx(expected)
