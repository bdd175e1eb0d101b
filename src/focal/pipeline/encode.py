"""Choosing the output format and encoding into it."""

from __future__ import annotations

import contextlib
import re
import struct
from dataclasses import dataclass

import pyvips
from pyvips.enums import ForeignKeep

from focal.errors import ErrorKind, FocalError
from focal.options import Color
from focal.pipeline.deadline import Deadline
from focal.pipeline.source import SourceInfo

MEDIA_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "baseline-jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
}
DEFAULT_QUALITY = 85
# What every browser shows: JPEG, or PNG when the result keeps transparency. Only the
# finished pixels can decide between the two, so a caller asks for the pair.
JPEG_OR_PNG = "jpeg-or-png"
# Originals whose format browsers cannot show are delivered as JPEG (or PNG with alpha).
_SAME_AS_SOURCE = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
}


@dataclass(frozen=True)
class Encoding:
    """How to write the output."""

    format: str  # a key of MEDIA_TYPES
    quality: int | None = None  # None: the default, and no PNG palette
    fast: bool = False
    metadata: str = "copyright"  # keep | copyright | none (JPEG only)
    animated: bool = False
    background: Color | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


# Measured on this project's 2-core machine, tests/data's smartcrop__nature-1.jpg resized,
# quality 85, best of two, AVIF (libheif/aom, effort 2, the effort used then) vs WebP
# (effort 4):
#   640×427    0.27 MP   AVIF  224 ms   WebP   41 ms
#   1000×667   0.67 MP   AVIF  407 ms   WebP   71 ms
#   1280×853   1.09 MP   AVIF  489 ms   WebP  173 ms
#   1600×1067  1.71 MP   AVIF  653 ms   WebP  206 ms
#   2000×1333  2.67 MP   AVIF  871 ms   WebP  510 ms
#   3000×2000  6.00 MP   AVIF 1447 ms   WebP  632 ms
#   4000×2667 10.67 MP   AVIF 4150 ms   WebP 1416 ms
# Past about 1.5 MP an AVIF takes over half a second of a core and three times WebP's time,
# for no smaller file at this quality: the default cap (Limits.max_avif_pixels).
AVIF_FALLBACK = "webp"  # every browser that accepts AVIF accepts WebP
# AVIF at the same output size as WebP (quality 80, effort 4), on the benchmark corpus
# (`python -m bench.avif`): effort 0 takes 1.01× WebP's CPU at 400×300 and 0.81× at 1200×800,
# for 4-7 % more bytes at one quality; effort 1 takes 3.3-3.8×, effort 2 5-6×. The goal is at
# most twice WebP's time: effort 0.
AVIF_EFFORT = 0


def choose_format(
    requested: str | None,
    source: SourceInfo,
    *,
    keeps_alpha: bool,
    animated: bool,
    pixels: int = 0,
    max_avif_pixels: int | None = None,
) -> str:
    """The format to write: the one requested (negotiated by the caller for format=auto),
    JPEG_OR_PNG decided by the result's alpha, or the source's when none is requested.
    An AVIF of more than `max_avif_pixels` (one frame's) is written as WebP."""
    if requested is None:
        requested = _SAME_AS_SOURCE.get(source.format, JPEG_OR_PNG)
    if requested == JPEG_OR_PNG:
        return "png" if keeps_alpha else "jpeg"
    if requested not in MEDIA_TYPES:
        raise FocalError(
            ErrorKind.BAD_OPTIONS,
            f"format={requested!r} cannot be written here: format=auto is chosen from the "
            "client's Accept header before the pipeline runs; write one of "
            + ", ".join(MEDIA_TYPES),
        )
    if requested == "avif" and animated:
        return "webp"  # AVIF animation is not supported by the encoder: keep it moving
    if requested == "avif" and max_avif_pixels is not None and pixels > max_avif_pixels:
        return AVIF_FALLBACK
    return requested


# At this quality and above a result is asked to keep fine detail: decoding shortcuts that
# cost a fraction of a dB are not taken (executor._jpeg_shrink_on_load).
EXACT_QUALITY = 90


def writes_lossy(requested: str | None, quality: int | None) -> bool:
    """Whether a result asked for as `requested` is written lossy below EXACT_QUALITY.
    None and JPEG_OR_PNG count as JPEG: a JPEG original keeps no alpha to make them PNG."""
    if requested in ("png", "gif"):
        return False
    return (quality or DEFAULT_QUALITY) < EXACT_QUALITY


def _keep(metadata: str) -> int:
    if metadata == "keep":
        return int(ForeignKeep.ALL)
    return int(ForeignKeep.ICC)  # copyright: its EXIF is written by _with_copyright


# libvips writes EXIF by rebuilding the original's block, adding resolution, orientation,
# dimensions and version tags of its own; metadata=copyright must carry the copyright and
# nothing else, so that block is written here: one IFD0 entry, Copyright (0x8298, ASCII).
_EXIF_FIELD = re.compile(r"^(?P<value>.*) \(.*, ASCII, \d+ components, \d+ bytes\)$", re.DOTALL)
_COPYRIGHT_TAG = 0x8298
_MAX_EXIF_TEXT = 60_000  # an APP1 segment holds at most 65,533 bytes


def _copyright_of(image: pyvips.Image) -> str | None:
    """The original's EXIF copyright text, or None (libvips shows it as `value (…)`)."""
    if not image.get_typeof("exif-ifd0-Copyright"):
        return None
    match = _EXIF_FIELD.match(str(image.get("exif-ifd0-Copyright")))
    text = match.group("value").strip() if match else ""
    return text or None


def _copyright_exif_segment(text: str) -> bytes:
    """A JPEG APP1 segment whose EXIF holds only `text` as the copyright."""
    value = text.encode()[:_MAX_EXIF_TEXT] + b"\0"
    entry_value = value.ljust(4, b"\0") if len(value) <= 4 else struct.pack(">I", 26)
    tiff = (
        b"MM\x00\x2a"  # big-endian TIFF header
        + struct.pack(">I", 8)  # IFD0 right after it
        + struct.pack(">H", 1)  # one entry
        + struct.pack(">HHI", _COPYRIGHT_TAG, 2, len(value))  # ASCII, counted with its NUL
        + entry_value  # the text itself when it fits in 4 bytes, else its offset (26)
        + struct.pack(">I", 0)  # no next IFD
        + (value if len(value) > 4 else b"")
    )
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _with_copyright(jpeg: bytes, text: str | None) -> bytes:
    """The JPEG with the copyright EXIF segment right after its start-of-image marker."""
    if text is None:
        return jpeg
    return jpeg[:2] + _copyright_exif_segment(text) + jpeg[2:]


def _flatten(image: pyvips.Image, background: Color | None) -> pyvips.Image:
    if not image.hasalpha():
        return image
    color = background if background is not None and background.opaque else Color(255, 255, 255)
    grey = image.bands == 2
    values = (
        [0.2126 * color.red + 0.7152 * color.green + 0.0722 * color.blue]
        if grey
        else [color.red, color.green, color.blue]
    )
    if image.format == "ushort":
        values = [value * 257 for value in values]
    return image.flatten(background=values)


def _eight_bit(image: pyvips.Image) -> pyvips.Image:
    if image.format == "uchar":
        return image
    space = "b-w" if image.bands in (1, 2) else "srgb"
    return image.colourspace(space).cast("uchar")


def encode(
    image: pyvips.Image, encoding: Encoding, page_height: int, deadline: Deadline | None = None
) -> bytes:
    """Write pixels in the chosen format; the image is a strip of frames when animated.

    libvips errors are raised as they are: the pixels are computed here, so they may come
    from decoding the original as much as from the encoder (the caller tells which).
    """
    quality = encoding.quality or DEFAULT_QUALITY
    if encoding.animated:
        image = image.copy()
        image.set_type(pyvips.GValue.gint_type, "page-height", page_height)
    return _save(image, encoding, quality, deadline)


def _save(
    image: pyvips.Image, encoding: Encoding, quality: int, deadline: Deadline | None
) -> bytes:
    final, save, arguments = _writer(image, encoding, quality)
    # The image whose pixels the save computes is the one libvips can stop.
    watching = deadline.watching(final) if deadline is not None else contextlib.nullcontext()
    with watching:
        data = bytes(getattr(final, save)(**arguments))
    if encoding.format in ("jpeg", "baseline-jpeg") and encoding.metadata == "copyright":
        return _with_copyright(data, _copyright_of(image))
    return data


def _small_or_huge(image: pyvips.Image) -> bool:
    """Under 50×50 px or over 3000 px on a side: written baseline even where progressive
    JPEG is asked for."""
    width, height = int(image.width), int(image.height)
    return width * height < 50 * 50 or max(width, height) > 3000


def _writer(
    image: pyvips.Image, encoding: Encoding, quality: int
) -> tuple[pyvips.Image, str, dict[str, object]]:
    """The image to write, ready for its format, the saver's name and its arguments."""
    fmt = encoding.format
    if fmt in ("jpeg", "baseline-jpeg"):
        image = _eight_bit(_flatten(image, encoding.background))
        progressive = fmt == "jpeg" and not encoding.fast and not _small_or_huge(image)
        return (
            image,
            "jpegsave_buffer",
            {
                "Q": quality,
                "interlace": progressive,
                "optimize_coding": not encoding.fast,
                "keep": _keep(encoding.metadata),
            },
        )
    keep = int(ForeignKeep.NONE)
    if fmt == "webp":
        return (
            _eight_bit(image),
            "webpsave_buffer",
            {
                "Q": quality,
                "lossless": quality == 100,
                "effort": 0 if encoding.fast else 4,
                "keep": keep,
            },
        )
    if fmt == "avif":
        return (
            _eight_bit(image),
            "heifsave_buffer",
            {
                "Q": quality,
                "compression": "av1",
                "effort": AVIF_EFFORT,
                "keep": keep,
            },
        )
    if fmt == "png":
        return (
            image,
            "pngsave_buffer",
            {
                "compression": 1 if encoding.fast else 6,
                "palette": encoding.quality is not None,
                "Q": quality,
                "keep": keep,
            },
        )
    if fmt == "gif":
        return (
            _eight_bit(image),
            "gifsave_buffer",
            {"keep": keep, "effort": 1 if encoding.fast else 7},
        )
    raise FocalError(ErrorKind.BAD_OPTIONS, f"format={fmt!r} cannot be written")
