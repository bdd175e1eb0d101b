"""Reading an original's header: format, size, frames. Limits are checked here, before decoding."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from focal.errors import ErrorKind, FocalError
from focal.options.model import MAX_SIDE
from focal.vips import error_detail, load_options

# Loaders we accept from untrusted input; everything else (libvips' own formats, matrices,
# CSV, FITS...) is refused.
_LOADERS = {
    "jpegload": "image/jpeg",
    "pngload": "image/png",
    "webpload": "image/webp",
    "gifload": "image/gif",
    "heifload": "image/avif",
    "tiffload": "image/tiff",
}  # not svgload: libvips marks it untrusted, so block_untrusted refuses SVG before we see it
# The loader of each format (all but HEIC, which libvips cannot decode): what decodes an
# original probe accepted, named rather than looked for again.
LOADER_OF = {media_type: loader for loader, media_type in _LOADERS.items()}
ANIMATED_FORMATS = ("image/gif", "image/webp")
# Every format an original may be in, as a page's file checks name them.
ACCEPTED_FORMATS = (*_LOADERS.values(), "image/heic")


@dataclass(frozen=True)
class SourceInfo:
    """What an original is, as displayed: EXIF orientation already applied to the size."""

    format: str  # MIME type
    width: int
    height: int  # of one frame
    pages: int  # frames of an animation; 1 otherwise
    has_alpha: bool
    file_size: int
    orientation: int

    @property
    def animated(self) -> bool:
        return self.pages > 1


@dataclass(frozen=True)
class Limits:
    """What one original may be, and what one transformation may cost."""

    max_bytes: int = 100 * 1024 * 1024
    max_pixels: int = 100_000_000
    max_side: int = MAX_SIDE  # by default an original may be as large as any result
    # The result's pixels, all frames summed, checked from its planned size before any work.
    max_output_pixels: int = 50_000_000
    # GIF results cost far more per pixel (a palette search per frame, which libvips cannot
    # interrupt): a budget of their own.
    max_gif_output_pixels: int = 8_000_000
    # AVIF results larger than this (width × height of one frame) are written as WebP:
    # AVIF's encoder is slow on large images. See encode.AVIF_MAX_PIXELS for the measurement.
    max_avif_pixels: int = 1_500_000
    # Seconds one transformation may run before libvips is stopped; 0: no limit.
    transform_timeout: float = 30.0


def _loader_format(image: pyvips.Image) -> str:
    loader = str(image.get("vips-loader")).removesuffix("_buffer").removesuffix("_source")
    media_type = _LOADERS.get(loader)
    if media_type is None:
        raise FocalError(
            ErrorKind.UNSUPPORTED_FORMAT,
            f"the original is in a format Focal does not accept ({loader}); "
            "send JPEG, PNG, WebP, GIF, AVIF, HEIC or TIFF",
        )
    if media_type == "image/avif" and _field(image, "heif-compression") == "hevc":
        return "image/heic"
    return media_type


def _field(image: pyvips.Image, name: str) -> object:
    return image.get(name) if image.get_typeof(name) else None


def probe(data: bytes, limits: Limits | None = None) -> SourceInfo:
    """Read the header only and check the limits; no pixel is decoded here."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise FocalError(
            ErrorKind.SOURCE_TOO_LARGE,
            f"the original is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes",
        )
    if not data:
        raise FocalError(ErrorKind.NOT_AN_IMAGE, "the original is empty")
    try:
        # The header only: truncation shows when the pixels decode (load_options there), or
        # for GIF by its trailer, below; a header too short to read is no image at all.
        image = pyvips.Image.new_from_buffer(data, "")
    except pyvips.Error:
        raise FocalError(
            ErrorKind.NOT_AN_IMAGE,
            "the original is not an image Focal can read (JPEG, PNG, WebP, GIF, AVIF, HEIC "
            "or TIFF)",
        ) from None
    media_type = _loader_format(image)
    orientation = int(_field(image, "orientation") or 1)  # type: ignore[call-overload]
    width, height = image.width, image.height
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    pages = 1
    if media_type in ANIMATED_FORMATS:
        pages = max(1, int(_field(image, "n-pages") or 1))  # type: ignore[call-overload]
    info = SourceInfo(
        format=media_type,
        width=width,
        height=height,
        pages=pages,
        has_alpha=bool(image.hasalpha()),
        file_size=len(data),
        orientation=orientation,
    )
    check_limits(info, limits)
    if media_type == "image/gif":
        _check_gif_trailer(data)
    return info


def _check_gif_trailer(data: bytes) -> None:
    """A GIF ends with its trailer byte; libvips decodes the frames that arrived whole and
    drops the rest silently, so a cut animation would otherwise pass as a shorter one."""
    if not data.rstrip(b"\0").endswith(b"\x3b"):
        raise incomplete("the GIF ends before its trailer")


def incomplete(detail: str) -> FocalError:
    """An original that does not decode completely: truncated or damaged."""
    return FocalError(
        ErrorKind.PROCESSING_FAILED,
        f"the original does not decode completely ({detail}); it is truncated or damaged: "
        "send the whole file again",
    )


def check_decodes(data: bytes, limits: Limits | None = None) -> SourceInfo:
    """`probe`, then decode every pixel (at reduced size where the format allows): an upload
    must be whole before it is kept. JPEG, WebP and HEIF decode shrunk, so this costs a
    fraction of a full decode; other formats stream through without being held."""
    info = probe(data, limits)
    if info.format == "image/heic":  # libvips cannot decode HEVC: the decoder that can
        from focal.pipeline.heic import decode_heic  # imports this module: here, not above

        decode_heic(data).avg()
        return info
    options = load_options(all_pages=info.animated)
    try:
        pyvips.Image.thumbnail_buffer(data, 256, option_string=options).avg()
    except pyvips.Error as error:
        raise incomplete(error_detail(error)) from None
    return info


def check_limits(info: SourceInfo, limits: Limits) -> None:
    """Refuse decompression bombs from the header: area (all frames summed) and sides."""
    if info.width < 1 or info.height < 1:
        raise FocalError(ErrorKind.IMAGE_TOO_LARGE, "the original has no pixels (zero size)")
    check_size("the original", info.width, info.height, info.pages, limits)


def check_size(subject: str, width: int, height: int, pages: int, limits: Limits) -> None:
    """The longest side and the area (all frames summed) of an original or a result."""
    if max(width, height) > limits.max_side:
        raise FocalError(
            ErrorKind.IMAGE_TOO_LARGE,
            f"{subject} is {width}×{height} px; the longest side may be at most "
            f"{limits.max_side:,} px",
        )
    area = width * height * pages
    if area > limits.max_pixels:
        frames = f" over {pages} frames" if pages > 1 else ""
        raise FocalError(
            ErrorKind.IMAGE_TOO_LARGE,
            f"{subject} has {area:,} pixels{frames} ({width}×{height} px); "
            f"the limit is {limits.max_pixels:,}",
        )


def check_output_budget(width: int, height: int, pages: int, fmt: str, limits: Limits) -> None:
    """What writing the result will cost, from its planned size: pixels of all its frames."""
    gif = fmt == "gif"
    budget = limits.max_gif_output_pixels if gif else limits.max_output_pixels
    area = width * height * pages
    if area <= budget:
        return
    frames = f" × {pages} frames" if pages > 1 else ""
    kind = "a GIF result" if gif else "a result"
    advice = "ask for a smaller width or height"
    if pages > 1:
        advice += ", or one frame (anim=false)"
    if gif:
        advice += ", or another format (WebP writes animations far faster)"
    raise FocalError(
        ErrorKind.IMAGE_TOO_LARGE,
        f"the result would be {width}×{height} px{frames} = {area:,} pixels; "
        f"{kind} may have at most {budget:,}: {advice}",
    )
