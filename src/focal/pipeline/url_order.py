"""The URL form's fixed order of operations.

trim → flip → rotate → resize/crop (fit, gravity) → faces blurred or pixelated → colour
adjustments → blur → sharpen → background → encode. Options given in any order in a URL
always run in this order.
"""

from __future__ import annotations

from focal.errors import OptionError
from focal.options import Options
from focal.options.model import MAX_SIDE
from focal.pipeline.executor import OutputSpec
from focal.pipeline.operations import (
    AdjustOp,
    BackgroundOp,
    BlurOp,
    FaceBlurOp,
    FacePixelateOp,
    FlipOp,
    Operation,
    ResizeOp,
    RotateOp,
    SharpenOp,
    TrimOp,
)


def _scaled_side(name: str, value: int | str | None, dpr: float) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise OptionError(f"{name}=auto needs the client's width hint, which this request lacks")
    scaled = max(1, round(value * dpr))
    if scaled > MAX_SIDE:
        raise OptionError(
            f"{name}={value} with dpr={dpr:g} asks for {scaled} px; the most is {MAX_SIDE}"
        )
    return scaled


def url_operations(options: Options) -> list[Operation]:
    """The operations for one URL's options, in the documented order."""
    operations: list[Operation] = []
    if options.trim is not None:
        # Trim's pixel lengths are in device pixels too, as the product documents.
        operations.append(TrimOp(options.trim, scale=(options.dpr, options.dpr)))
    if options.flip:
        operations.append(FlipOp(options.flip))
    if options.rotate:
        operations.append(RotateOp(options.rotate))
    width = _scaled_side("width", options.width, options.dpr)
    height = _scaled_side("height", options.height, options.dpr)
    # gravity=face without a size still cuts the region around the faces (zoom decides it).
    if width is not None or height is not None or options.gravity.uses_faces:
        operations.append(
            ResizeOp(
                width=width,
                height=height,
                fit=options.fit,
                gravity=options.gravity,
                zoom=options.zoom,
                background=options.background,
            )
        )
    # Faces are hidden in the result's pixels, so the strength follows their size there.
    if options.face_blur:
        operations.append(FaceBlurOp(options.face_blur))
    if options.face_pixelate:
        operations.append(FacePixelateOp(options.face_pixelate))
    adjustments = (options.brightness, options.contrast, options.gamma, options.saturation)
    if adjustments != (1.0, 1.0, 1.0, 1.0):
        operations.append(AdjustOp(*adjustments))
    if options.blur:
        operations.append(BlurOp(options.blur))
    if options.sharpen:
        operations.append(SharpenOp(options.sharpen))
    if options.background is not None:
        operations.append(BackgroundOp(options.background))
    return operations


def url_output(
    options: Options, *, negotiated: str | None = None, slow_connection: bool = False
) -> OutputSpec:
    """What to write for one URL's options; `negotiated`: the format format=auto stands for
    with this client (chosen by the caller from its Accept header)."""
    fmt = options.format
    if fmt == "auto":
        if negotiated is None:
            raise OptionError("format=auto needs the client's Accept header, which this lacks")
        fmt = negotiated
    quality = options.quality
    if slow_connection and options.slow_connection_quality is not None:
        quality = options.slow_connection_quality
    return OutputSpec(
        format=fmt,
        quality=quality,
        fast=options.compression == "fast",
        metadata=options.metadata,
        anim=options.anim,
        background=options.background,
    )
