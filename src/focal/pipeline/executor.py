"""Run a list of operations on an original and encode the result.

The one executor for every caller: the URL form hands it operations in a fixed order, code
hands them in the order it chose. Where the operations allow, the original is decoded already
shrunk (libvips shrink-on-load), so a 12-megapixel JPEG is never held in memory in full.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import pyvips

from focal.errors import ErrorKind, FocalError
from focal.options import Color
from focal.pipeline.deadline import Deadline
from focal.pipeline.encode import Encoding, choose_format, encode, writes_lossy
from focal.pipeline.frames import Canvas
from focal.pipeline.geometry import Box
from focal.pipeline.heic import decode_heic, needs_heif_decoder
from focal.pipeline.operations import Operation
from focal.pipeline.source import (
    LOADER_OF,
    Limits,
    SourceInfo,
    check_output_budget,
    check_size,
    probe,
)
from focal.vips import FAIL_ON, error_detail, load, load_options


@dataclass(frozen=True)
class OutputSpec:
    """What the caller wants written: format (None: like the source; JPEG_OR_PNG: by the
    result's alpha), quality and the rest. No request header reaches the pipeline: the
    caller negotiates format=auto into one of these."""

    format: str | None = None
    quality: int | None = None
    fast: bool = False
    metadata: str = "copyright"
    anim: bool = True
    background: Color | None = None


@dataclass(frozen=True)
class Output:
    data: bytes
    media_type: str
    format: str
    width: int
    height: int  # of one frame
    pages: int
    faces_found: int | None  # None: no detection was asked for
    # The format asked for when another was written instead (an AVIF too large, an
    # animation AVIF cannot hold): None when the format written is the one asked for.
    fallback_from: str | None = None


def _pages(source: SourceInfo, anim: bool) -> int:
    return source.pages if anim else 1


def _dry_canvas(source: SourceInfo, pages: int, faces: tuple[Box, ...] | None) -> Canvas:
    """A canvas of the source's size with no pixels behind it, for planning."""
    blank = pyvips.Image.black(source.width, source.height * pages, bands=3)
    blank = blank.copy(interpretation="srgb")
    return Canvas(blank, pages=pages, faces=faces, measure_only=True)


def _load_scale(
    operations: Sequence[Operation], source: SourceInfo, faces: tuple[Box, ...] | None
) -> tuple[float, float]:
    """How much the operations up to the one that sets the scale let us shrink on load, per
    source axis."""
    prefix: list[Operation] = []
    scaling: Operation | None = None
    for op in operations:
        if op.sets_load_scale:
            scaling = op
            break
        if not (op.predictable and op.runs_on_shrunk):
            return 1.0, 1.0
        prefix.append(op)
    if scaling is None:
        return 1.0, 1.0
    turns = 0
    if prefix or faces:
        canvas = _dry_canvas(source, 1, faces)
        for op in prefix:
            canvas = op.apply(canvas)
            turns += op.quarter_turns()
        scale = scaling.load_scale(canvas)
    else:  # the plan needs only the size: no canvas to build (two libvips calls)
        scale = scaling.size_scale(source.width, source.height)
    if scale is None:
        return 1.0, 1.0
    sx, sy = scale
    return (sy, sx) if turns % 2 else (sx, sy)


def _jpeg_shrink_on_load(source: SourceInfo, shrink: float) -> int:
    """The JPEG decoding scale (1/2, 1/4, 1/8) for a result `shrink` times smaller, when it is
    larger than libvips' thumbnail would take; 1 otherwise (thumbnail chooses).

    thumbnail leaves at least a factor of two to its own resize (a 4000 px photo for a 400 px
    result is decoded at 1000 px); this rule, sharp's default, leaves at least one (500 px).
    Decoding and resizing a quarter of the pixels takes a quarter less CPU per big original.
    The cost, measured on the benchmark corpus at 400×300: 0.1-0.25 dB PSNR against a
    full-size Lanczos resize once the result is written at quality 80 (2-9 dB before
    encoding, on fine detail), so it is used only for lossy results below quality 90.
    """
    if source.format != "image/jpeg" or source.pages > 1:
        return 1
    thumbnail_shrink = next((n for n in (8, 4, 2) if shrink >= 2 * n), 1)
    fast_shrink = next((n for n in (8, 4, 2) if shrink >= n), 1)
    if fast_shrink > 1 and int(shrink) == fast_shrink:
        fast_shrink //= 2  # libjpeg rounds such sizes down, a pixel short of the result
    return fast_shrink if fast_shrink > thumbnail_shrink else 1


def _load(
    data: bytes,
    source: SourceInfo,
    operations: Sequence[Operation],
    pages: int,
    faces: tuple[Box, ...] | None,
    *,
    lossy: bool = False,
) -> tuple[Canvas, list[Operation]]:
    """`lossy`: the result is written lossy at a quality where a faster decoding scale is
    invisible (see _jpeg_shrink_on_load)."""
    option_string = load_options(all_pages=pages > 1)
    sx, sy = _load_scale(operations, source, faces)
    width, height = round(source.width * sx), round(source.height * sy)
    if needs_heif_decoder(source):  # decoded whole (no shrink-on-load), then shrunk
        image = decode_heic(data)
        if sx < 1 or sy < 1:
            image = image.thumbnail_image(max(1, width), height=max(1, height), size="force")
    elif sx < 1 or sy < 1:
        shrink = _jpeg_shrink_on_load(source, 1 / max(sx, sy)) if lossy else 1
        if shrink > 1:  # decoded at 1/2, 1/4 or 1/8 by libjpeg, then resized as thumbnail does
            # The loader named, not looked for: probe found the format already.
            image = load(
                "jpegload", data, shrink=shrink, fail_on=FAIL_ON, access="sequential"
            ).thumbnail_image(max(1, width), height=max(1, height), size="force")
        else:
            image = load(
                "thumbnail",
                data,
                max(1, width),
                height=max(1, height),
                size="force",
                option_string=option_string,
            )
    else:
        image = load(
            LOADER_OF[source.format], data, string_options=option_string, access="random"
        )
        if pages == 1:
            image = image.autorot()
        if image.interpretation == "cmyk":  # as thumbnail does: pixels are worked on in sRGB
            image = image.colourspace("srgb")
    fx = image.width / source.width
    fy = image.height / pages / source.height
    if (fx, fy) == (1.0, 1.0):
        return Canvas(image, pages=pages, faces=faces), list(operations)
    scaled_faces = None if faces is None else tuple(face.scaled(fx, fy) for face in faces)
    rescaled: list[Operation] = []
    turns = 0
    for index, op in enumerate(operations):
        if op.sets_load_scale:
            rescaled.extend(operations[index:])
            break
        rescaled.append(op.rescaled(fy, fx) if turns % 2 else op.rescaled(fx, fy))
        turns += op.quarter_turns()
    return Canvas(image, pages=pages, faces=scaled_faces), rescaled


def _apply(
    canvas: Canvas, operations: Sequence[Operation], limits: Limits, deadline: Deadline
) -> Canvas:
    for op in operations:
        deadline.check()  # some operations read pixels (trim to a border, gravity=auto)
        if op.resizes or not canvas.measure_only:
            canvas = op.apply(canvas)
    # Enlarging fits can ask for far more pixels than the original had: the limits hold for
    # the result too, checked before any pixel of it is computed.
    check_size("the result", canvas.width, canvas.height, canvas.pages, limits)
    return canvas


def measure(
    data: bytes,
    operations: Sequence[Operation],
    *,
    source: SourceInfo | None = None,
    faces: tuple[Box, ...] | None = None,
    anim: bool = True,
    limits: Limits | None = None,
) -> tuple[int, int]:
    """The output's width and height, without encoding and, where possible, without decoding."""
    limits = limits or Limits()
    source = source or probe(data, limits)
    deadline = Deadline(limits.transform_timeout)
    pages = _pages(source, anim)
    needs_pixels = any(not op.predictable for op in operations)
    with _processing_errors(deadline):
        if needs_pixels:
            canvas, operations = _load(data, source, operations, pages, faces)
            canvas = replace(canvas, measure_only=True)
        else:
            canvas = _dry_canvas(source, pages, faces)
        result = _apply(canvas, operations, limits, deadline)
    return result.width, result.height


@contextlib.contextmanager
def _processing_errors(deadline: Deadline) -> Iterator[None]:
    """libvips failures on an input become the user's error, not the server's.

    Pixels are decoded lazily, while operations read them or the result is written, so a
    failure here is most often an original that does not decode completely.
    """
    try:
        yield
    except pyvips.Error as error:
        if deadline.expired:
            raise deadline.exceeded() from None
        raise FocalError(
            ErrorKind.PROCESSING_FAILED,
            f"the image could not be processed ({error_detail(error)}); an original that is "
            "truncated or damaged does not decode completely: send the whole file again",
        ) from None


def render(
    data: bytes,
    operations: Sequence[Operation],
    *,
    faces: tuple[Box, ...] | None = None,
    limits: Limits | None = None,
    source: SourceInfo | None = None,
    deadline: Deadline | None = None,
) -> pyvips.Image:
    """Decode (first frame only) and transform one image, without encoding: an overlay."""
    limits = limits or Limits()
    source = source or probe(data, limits)
    deadline = deadline or Deadline(limits.transform_timeout)
    with _processing_errors(deadline):
        canvas, operations = _load(data, source, operations, 1, faces)
        return _apply(canvas, operations, limits, deadline).frames()[0]


def run(
    data: bytes,
    operations: Sequence[Operation],
    output: OutputSpec,
    *,
    source: SourceInfo | None = None,
    faces: tuple[Box, ...] | None = None,
    limits: Limits | None = None,
    deadline: Deadline | None = None,
) -> Output:
    """Decode, transform and encode one image, within `limits.transform_timeout` (from the
    start of this call, or `deadline` when the caller started one for more work)."""
    limits = limits or Limits()
    source = source or probe(data, limits)
    deadline = deadline or Deadline(limits.transform_timeout)
    pages = _pages(source, output.anim)
    with _processing_errors(deadline):
        lossy = writes_lossy(output.format, output.quality)
        canvas, operations = _load(data, source, operations, pages, faces, lossy=lossy)
        canvas = _apply(canvas, operations, limits, deadline)
        keeps_alpha = bool(canvas.image.hasalpha()) and not (
            output.background is not None and output.background.opaque
        )
        fmt = choose_format(
            output.format,
            source,
            keeps_alpha=keeps_alpha,
            animated=pages > 1,
            pixels=canvas.width * canvas.height,
            max_avif_pixels=limits.max_avif_pixels,
        )
        animated = pages > 1 and fmt in ("webp", "gif")
        # Planned, not yet computed: the cost is refused before any pixel of it is made.
        check_output_budget(canvas.width, canvas.height, pages if animated else 1, fmt, limits)
        image = canvas.image if animated else canvas.frames()[0]
        encoding = Encoding(
            format=fmt,
            quality=output.quality,
            fast=output.fast,
            metadata=output.metadata,
            animated=animated,
            background=output.background,
        )
        data_out = encode(image, encoding, canvas.height, deadline)
    return Output(
        data=data_out,
        media_type=encoding.media_type,
        format=fmt,
        width=canvas.width,
        height=canvas.height,
        pages=pages if animated else 1,
        faces_found=None if faces is None else len(faces),
        fallback_from=output.format if output.format == "avif" and fmt != "avif" else None,
    )
