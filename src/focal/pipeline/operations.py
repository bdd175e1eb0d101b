"""The operations a pipeline runs, each one small, looked up by name in one registry.

Every operation takes a Canvas and returns a Canvas, carrying face boxes along with the
pixels. What the executor needs to know of a step (may it run on an original decoded
shrunk? does it set the scale to decode at? does it need the faces?) the step says through
the attributes of `Operation`, never by its class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

import pyvips

from focal.errors import ErrorKind, FocalError, OptionError
from focal.options import SPECS, Color, Fit, Gravity, GravityMode, Trim
from focal.options.model import MAX_SIDE
from focal.options.values import Choice, Decimal, Integer
from focal.pipeline import face_privacy
from focal.pipeline import gravity as gravity_rules
from focal.pipeline.frames import Canvas
from focal.pipeline.geometry import Box, ResizePlan, plan_resize
from focal.pipeline.parameters import JSON, Parameter, Scalar, TrimParameter, malformed

WHITE = Color(255, 255, 255)
MAX_INPUTS = 10  # images one chain may use: the base and up to nine overlays
_OPTION_VALUES = {spec.attribute: spec.value for spec in SPECS}


def _option(attribute: str, optional: bool = False) -> Scalar:
    """A parameter spelled and checked as the option of that name is in a URL."""
    return Scalar(_OPTION_VALUES[attribute], optional)


_SIDE = Scalar(Integer(1, MAX_SIDE), optional=True)  # after dpr, so never "auto"


class Operation:
    """One step of a pipeline."""

    name: ClassVar[str]
    # True when the output size follows from the input size alone (no pixel analysis).
    predictable: ClassVar[bool] = True
    # False for steps that only change pixel values: planning a size can skip them.
    resizes: ClassVar[bool] = True
    # The fields that make up the step, with their JSON form; anything else is working state.
    parameters: ClassVar[Mapping[str, Parameter]] = {}
    # True for a step that means the same on an original decoded already shrunk, once its
    # pixel lengths are `rescaled`: such steps may come before the one that sets the scale.
    runs_on_shrunk: ClassVar[bool] = False
    # True for the step whose scale the original may be decoded at (shrink-on-load): the
    # steps after it run on its result as they are.
    sets_load_scale: ClassVar[bool] = False

    @property
    def needs_faces(self) -> bool:
        """Whether the faces of the input must be found before this step runs."""
        return False

    def apply(self, canvas: Canvas) -> Canvas:
        raise NotImplementedError

    def load_scale(self, canvas: Canvas) -> tuple[float, float] | None:
        """With `sets_load_scale`: the scale (x, y) this step gives `canvas`; None: none."""
        return self.size_scale(canvas.width, canvas.height)

    def size_scale(self, width: int, height: int) -> tuple[float, float] | None:
        """`load_scale` for an image of that size with no faces on it: no image needed."""
        return None

    def quarter_turns(self) -> int:
        return 0

    def rescaled(self, sx: float, sy: float) -> Operation:
        """The same step for an image already scaled by (sx, sy) on load."""
        return self

    def to_dict(self) -> dict[str, JSON]:
        """The JSON form: {"op": name, parameter: value, ...}; see `operation_from_dict`."""
        values = {key: param.to_json(getattr(self, key)) for key, param in self.parameters.items()}
        return {"op": self.name, **values}


def color_for(image: pyvips.Image, color: Color) -> list[float]:
    """A colour as pixel values for this image's bands (grey or RGB, with or without alpha)."""
    grey = image.interpretation in ("b-w", "grey16") or image.bands in (1, 2)
    values = (
        [0.2126 * color.red + 0.7152 * color.green + 0.0722 * color.blue]
        if grey
        else [float(color.red), float(color.green), float(color.blue)]
    )
    if image.hasalpha():
        values.append(float(color.alpha))
    if image.format == "ushort":
        values = [value * 257 for value in values]
    return values


def paintable(image: pyvips.Image, color: Color) -> pyvips.Image:
    """The image in a colour space that can show `color`: grey images become sRGB for a hue."""
    if image.bands in (1, 2) and not color.red == color.green == color.blue:
        return image.colourspace("srgb" if image.format == "uchar" else "rgb16")
    return image


# --- geometry ------------------------------------------------------------------------------


def _length(value: float, size: int) -> float:
    """Trim lengths below 1 are fractions of the side."""
    return value * size if value < 1 else value


@dataclass(frozen=True)
class TrimOp(Operation):
    name: ClassVar[str] = "trim"
    parameters: ClassVar[Mapping[str, Parameter]] = {"trim": TrimParameter()}
    runs_on_shrunk: ClassVar[bool] = True
    trim: Trim
    scale: tuple[float, float] = (1.0, 1.0)  # pixel lengths were given for the unscaled image

    @property
    def predictable(self) -> bool:  # type: ignore[override]
        return self.trim.border is None

    def region(self, width: int, height: int) -> Box:
        sx, sy = self.scale
        trim = self.trim

        def px(value: float, size: int, scale: float) -> float:
            return value * size if value < 1 else value * scale

        left, top = px(trim.left, width, sx), px(trim.top, height, sy)
        if trim.width is not None:
            kept_w = px(trim.width, width, sx)
        else:
            kept_w = width - left - px(trim.right, width, sx)
        if trim.height is not None:
            kept_h = px(trim.height, height, sy)
        else:
            kept_h = height - top - px(trim.bottom, height, sy)
        left, top = min(round(left), width - 1), min(round(top), height - 1)
        kept_w = min(round(kept_w), width - left)
        kept_h = min(round(kept_h), height - top)
        if kept_w < 1 or kept_h < 1:
            raise OptionError(f"trim removes the whole image ({width}×{height} px): trim less")
        return Box(left, top, kept_w, kept_h)

    def rescaled(self, sx: float, sy: float) -> Operation:
        return replace(self, scale=(self.scale[0] * sx, self.scale[1] * sy))

    def _border_region(self, canvas: Canvas) -> Box:
        assert self.trim.border is not None
        border = self.trim.border
        frame = canvas.frames()[0]
        if min(frame.width, frame.height) < 3:  # too small for find_trim's 3×3 median
            return Box(0, 0, canvas.width, canvas.height)
        background: list[float] | None = None
        if border.color is not None:
            background = color_for(frame, border.color)[: frame.bands - frame.hasalpha()]
        if frame.hasalpha():
            frame = frame.flatten(background=background or [255] * (frame.bands - 1))
        if background is None:  # no colour given: the border is the top-left pixel's colour
            background = [float(value) for value in frame.getpoint(0, 0)]
        left, top, width, height = frame.find_trim(
            threshold=border.tolerance, background=background
        )
        if width == 0 or height == 0:  # the whole image is border: keep it as it is
            return Box(0, 0, canvas.width, canvas.height)
        keep = round(border.keep * min(self.scale))  # keep is a pixel length, scaled too
        right = min(canvas.width, left + width + keep)
        bottom = min(canvas.height, top + height + keep)
        left, top = max(0, left - keep), max(0, top - keep)
        return Box(left, top, right - left, bottom - top)

    def apply(self, canvas: Canvas) -> Canvas:
        if self.trim.border is not None:
            region = self._border_region(canvas)
        else:
            region = self.region(canvas.width, canvas.height)
        left, top, width, height = (
            int(value) for value in (region.left, region.top, region.width, region.height)
        )
        if (width, height) == (canvas.width, canvas.height):
            return canvas
        moved = canvas.map_faces(lambda face: _clip(face.moved(-left, -top), width, height))
        cut = canvas.map_frames(lambda frame: frame.crop(left, top, width, height))
        return replace(cut, faces=moved)


def _clip(box: Box, width: float, height: float) -> Box | None:
    left, top = max(0.0, box.left), max(0.0, box.top)
    right, bottom = min(width, box.right), min(height, box.bottom)
    if right <= left or bottom <= top:
        return None
    return Box(left, top, right - left, bottom - top)


@dataclass(frozen=True)
class FlipOp(Operation):
    name: ClassVar[str] = "flip"
    parameters: ClassVar[Mapping[str, Parameter]] = {"direction": _option("flip")}
    runs_on_shrunk: ClassVar[bool] = True
    direction: str  # h, v or hv

    def apply(self, canvas: Canvas) -> Canvas:
        width, height = canvas.width, canvas.height

        def flip(frame: pyvips.Image) -> pyvips.Image:
            if "h" in self.direction:
                frame = frame.fliphor()
            if "v" in self.direction:
                frame = frame.flipver()
            return frame

        def move(box: Box) -> Box:
            left = width - box.right if "h" in self.direction else box.left
            top = height - box.bottom if "v" in self.direction else box.top
            return Box(left, top, box.width, box.height)

        return replace(canvas.map_frames(flip), faces=canvas.map_faces(move))


@dataclass(frozen=True)
class RotateOp(Operation):
    name: ClassVar[str] = "rotate"
    parameters: ClassVar[Mapping[str, Parameter]] = {"angle": _option("rotate")}
    runs_on_shrunk: ClassVar[bool] = True
    angle: int  # 90, 180 or 270, clockwise

    def quarter_turns(self) -> int:
        return self.angle // 90 % 4

    def apply(self, canvas: Canvas) -> Canvas:
        turns = self.quarter_turns()
        if turns == 0:
            return canvas
        width, height = canvas.width, canvas.height
        method = {1: "rot90", 2: "rot180", 3: "rot270"}[turns]

        def move(box: Box) -> Box:
            if turns == 1:
                return Box(height - box.bottom, box.left, box.height, box.width)
            if turns == 2:
                return Box(width - box.right, height - box.bottom, box.width, box.height)
            return Box(box.top, width - box.right, box.height, box.width)

        rotated = canvas.map_frames(lambda frame: getattr(frame, method)())
        return replace(rotated, faces=canvas.map_faces(move))


@dataclass(frozen=True)
class ResizeOp(Operation):
    """Scale by `fit` into width × height, cutting by gravity or padding with background."""

    name: ClassVar[str] = "resize"
    sets_load_scale: ClassVar[bool] = True
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "width": _SIDE,
        "height": _SIDE,
        "fit": _option("fit"),
        "gravity": _option("gravity"),
        "zoom": _option("zoom"),
        "background": _option("background", optional=True),
    }
    width: int | None
    height: int | None
    fit: Fit = Fit.SCALE_DOWN
    gravity: Gravity = Gravity()
    zoom: float = 0.0
    background: Color | None = None

    @property
    def needs_faces(self) -> bool:
        return self.gravity.uses_faces

    def plan(self, width: int, height: int) -> ResizePlan | None:
        return plan_resize(self.fit, self.width, self.height, (width, height))

    def load_scale(self, canvas: Canvas) -> tuple[float, float] | None:
        region = gravity_rules.face_region(canvas, self)
        if region is not None:
            canvas = region.canvas
        return self.size_scale(canvas.width, canvas.height)

    def size_scale(self, width: int, height: int) -> tuple[float, float] | None:
        plan = self.plan(width, height)
        if plan is None:
            return None
        return plan.scaled[0] / width, plan.scaled[1] / height

    def apply(self, canvas: Canvas) -> Canvas:
        source = (canvas.width, canvas.height)
        region = gravity_rules.face_region(canvas, self)
        if region is not None:
            canvas = region.canvas
            source = (canvas.width, canvas.height)
        plan = self.plan(*source)
        if plan is None:
            return canvas
        canvas = _scale(canvas, plan.scaled)
        if plan.crop is not None and plan.crop != plan.scaled:
            canvas = _cut(canvas, plan.crop, self.gravity, region)
        if plan.canvas is not None and plan.canvas != plan.scaled:
            canvas = _pad(canvas, plan.canvas, self.background or WHITE)
        return canvas


def _scale(canvas: Canvas, size: tuple[int, int]) -> Canvas:
    width, height = size
    if (width, height) == (canvas.width, canvas.height):
        return canvas
    sx, sy = width / canvas.width, height / canvas.height

    def scale(frame: pyvips.Image) -> pyvips.Image:
        resized = frame.resize(sx, vscale=sy)
        if (resized.width, resized.height) != (width, height):  # float rounding in libvips
            resized = resized.gravity("centre", width, height, extend="copy")
        return resized

    scaled = canvas.map_frames(scale)
    return replace(scaled, faces=canvas.map_faces(lambda face: face.scaled(sx, sy)))


def _cut(
    canvas: Canvas,
    size: tuple[int, int],
    gravity: Gravity,
    region: gravity_rules.FaceRegion | None,
) -> Canvas:
    width, height = size
    if gravity.mode is GravityMode.AUTO and region is None and not canvas.measure_only:
        # Attention analysis reads the pixels once and the cut reads them again: keep the
        # (already shrunk) image in memory rather than decode the original twice.
        canvas = canvas.with_image(canvas.image.copy_memory())
    left, top = gravity_rules.cut_offset(canvas, size, gravity, region)
    moved = canvas.map_faces(lambda face: _clip(face.moved(-left, -top), width, height))
    cut = canvas.map_frames(lambda frame: frame.crop(left, top, width, height))
    return replace(cut, faces=moved)


def _pad(canvas: Canvas, size: tuple[int, int], background: Color) -> Canvas:
    width, height = size
    left, top = (width - canvas.width) // 2, (height - canvas.height) // 2

    def pad(frame: pyvips.Image) -> pyvips.Image:
        frame = paintable(frame, background)
        if not background.opaque and not frame.hasalpha():
            frame = frame.bandjoin_const([255 if frame.format == "uchar" else 65535])
        return frame.embed(
            left, top, width, height, extend="background", background=color_for(frame, background)
        )

    padded = canvas.map_frames(pad)
    return replace(padded, faces=canvas.map_faces(lambda face: face.moved(left, top)))


# --- colour and detail -------------------------------------------------------------------


def _split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.hasalpha():
        return image[: image.bands - 1], image[image.bands - 1]
    return image, None


def _eight_bit(image: pyvips.Image) -> pyvips.Image:
    """Colour work is done on 8-bit sRGB or grey."""
    if image.format == "uchar" and image.interpretation in ("srgb", "b-w"):
        return image
    grey = image.bands in (1, 2)
    return image.colourspace("b-w" if grey else "srgb").cast("uchar")


@dataclass(frozen=True)
class AdjustOp(Operation):
    """Brightness, contrast, gamma and saturation, in that order; 1 leaves each unchanged."""

    name: ClassVar[str] = "adjust"
    resizes: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Parameter]] = {
        key: _option(key) for key in ("brightness", "contrast", "gamma", "saturation")
    }
    brightness: float = 1.0
    contrast: float = 1.0
    gamma: float = 1.0
    saturation: float = 1.0

    def _adjust(self, frame: pyvips.Image) -> pyvips.Image:
        colour, alpha = _split_alpha(_eight_bit(frame))
        work = colour
        if self.brightness != 1 or self.contrast != 1:
            # contrast pivots around mid-grey: (x * b - 128) * c + 128
            work = work.linear(self.brightness * self.contrast, 128 * (1 - self.contrast))
        if self.gamma not in (0, 1):
            work = (work.cast("float").maxpair(0) / 255) ** self.gamma * 255
        if self.saturation != 1 and colour.bands == 3:
            lch = work.colourspace("lch", source_space="srgb")
            work = (lch * [1, self.saturation, 1]).colourspace("srgb", source_space="lch")
        work = work.cast("uchar")
        if colour.interpretation == "b-w":
            work = work.copy(interpretation="b-w")
        return work.bandjoin(alpha) if alpha is not None else work

    def apply(self, canvas: Canvas) -> Canvas:
        return canvas.map_frames(self._adjust)


@dataclass(frozen=True)
class BlurOp(Operation):
    name: ClassVar[str] = "blur"
    resizes: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Parameter]] = {"radius": _option("blur")}
    radius: float

    def apply(self, canvas: Canvas) -> Canvas:
        if self.radius <= 0:
            return canvas
        sigma = self.radius / 2  # a Gaussian reaches about two sigmas: radius ≈ 2σ

        def blur(frame: pyvips.Image) -> pyvips.Image:
            frame = _eight_bit(frame)
            if frame.hasalpha():  # blur colour weighted by alpha, so edges do not darken
                return frame.premultiply().gaussblur(sigma).unpremultiply().cast("uchar")
            return frame.gaussblur(sigma)

        return canvas.map_frames(blur)


def _faces_to_hide(canvas: Canvas, what: str) -> tuple[Box, ...]:
    if canvas.faces is None:
        # Never a picture with the faces it was asked to hide left showing.
        raise FocalError(
            ErrorKind.BUSY,
            f"face detection is unavailable right now, so the faces can't be {what}: "
            "try again shortly",
        )
    return canvas.faces


@dataclass(frozen=True)
class _HideFacesOp(Operation):
    """Every face hidden, with a strength of `percent` % of each face's size."""

    resizes: ClassVar[bool] = False
    hidden: ClassVar[str]  # what the faces become, for the refusal's message
    percent: float

    @property
    def needs_faces(self) -> bool:
        return True

    def hide(self, frame: pyvips.Image, faces: tuple[Box, ...]) -> pyvips.Image:
        raise NotImplementedError

    def apply(self, canvas: Canvas) -> Canvas:
        faces = _faces_to_hide(canvas, self.hidden)
        if self.percent <= 0 or not faces:
            return canvas
        return canvas.map_frames(lambda frame: self.hide(_eight_bit(frame), faces))


@dataclass(frozen=True)
class FaceBlurOp(_HideFacesOp):
    """Blur every face, with a radius of `percent` % of each face's size."""

    name: ClassVar[str] = "face_blur"
    parameters: ClassVar[Mapping[str, Parameter]] = {"percent": _option("face_blur")}
    hidden: ClassVar[str] = "blurred"

    def hide(self, frame: pyvips.Image, faces: tuple[Box, ...]) -> pyvips.Image:
        return face_privacy.blur_faces(frame, faces, self.percent)


@dataclass(frozen=True)
class FacePixelateOp(_HideFacesOp):
    """Pixelate every face, in blocks of `percent` % of each face's size."""

    name: ClassVar[str] = "face_pixelate"
    parameters: ClassVar[Mapping[str, Parameter]] = {"percent": _option("face_pixelate")}
    hidden: ClassVar[str] = "pixelated"

    def hide(self, frame: pyvips.Image, faces: tuple[Box, ...]) -> pyvips.Image:
        return face_privacy.pixelate_faces(frame, faces, self.percent)


@dataclass(frozen=True)
class SharpenOp(Operation):
    name: ClassVar[str] = "sharpen"
    resizes: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Parameter]] = {"amount": _option("sharpen")}
    amount: float

    def apply(self, canvas: Canvas) -> Canvas:
        if self.amount <= 0:
            return canvas

        def sharpen(frame: pyvips.Image) -> pyvips.Image:
            colour, alpha = _split_alpha(_eight_bit(frame))
            # An unsharp mask on lightness only; amount scales the strength (m2) of it.
            sharp = colour.sharpen(sigma=1.0, m1=self.amount / 4, m2=self.amount)
            if colour.interpretation == "b-w":
                sharp = sharp.colourspace("b-w")
            sharp = sharp.cast("uchar")
            return sharp.bandjoin(alpha) if alpha is not None else sharp

        return canvas.map_frames(sharpen)


@dataclass(frozen=True)
class BackgroundOp(Operation):
    """Show `color` through transparent areas."""

    name: ClassVar[str] = "background"
    resizes: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Parameter]] = {"color": _option("background")}
    color: Color

    def apply(self, canvas: Canvas) -> Canvas:
        def fill(frame: pyvips.Image) -> pyvips.Image:
            if not frame.hasalpha():
                return frame
            frame = paintable(frame, self.color)
            values = color_for(frame, self.color)
            if self.color.opaque:
                return frame.flatten(background=values[:-1])
            plane = frame.new_from_image(values)
            return plane.composite2(frame, "over").cast(frame.format)

        return canvas.map_frames(fill)


# --- overlays ----------------------------------------------------------------------------

# The binding's composite modes, by libvips blend mode; "lighter" adds the colours.
COMPOSITE_MODES = {"over": "over", "in": "in", "atop": "atop", "out": "out", "xor": "xor"}
COMPOSITE_MODES["lighter"] = "add"
# On an opaque base these modes leave it opaque: the alpha band they add can go again.
_OPAQUE_ON_OPAQUE = ("over", "atop", "lighter")
_OFFSET = Scalar(Integer(-MAX_SIDE, MAX_SIDE), optional=True)


class OperationList(Parameter):
    """The operations that make an overlay, as a JSON list of operations."""

    def to_json(self, value: tuple[Operation, ...]) -> JSON:
        return [op.to_dict() for op in value]

    def from_json(self, name: str, raw: JSON) -> tuple[Operation, ...]:
        if not isinstance(raw, list):
            raise malformed(f"{name} must be a list of operations")
        return tuple(operation_from_dict(item) for item in raw)


def _rgba(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB with alpha: the one form overlays are composited in."""
    image = _eight_bit(image)
    if image.bands in (1, 2):
        image = image.colourspace("srgb")
    return image if image.hasalpha() else image.bandjoin_const([255])


def _offset(start: int | None, end: int | None, size: int, overlay_size: int) -> int:
    if start is not None:
        return start
    if end is not None:
        return size - overlay_size - end
    return (size - overlay_size) // 2


@dataclass(frozen=True)
class DrawOp(Operation):
    """Draw another image (input `input`, after its own operations) over this one.

    Sides are in pixels from the base's edges; none given on an axis: centred on it.
    """

    name: ClassVar[str] = "draw"
    resizes: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "input": Scalar(Integer(0, MAX_INPUTS - 1)),
        "operations": OperationList(),
        "top": _OFFSET,
        "left": _OFFSET,
        "bottom": _OFFSET,
        "right": _OFFSET,
        "opacity": Scalar(Decimal(0.0, 1.0)),
        "repeat": Scalar(Choice(("x", "y", "both")), optional=True),
        "composite": Scalar(Choice(tuple(COMPOSITE_MODES))),
        "background": _option("background", optional=True),
    }
    input: int  # which of the chain's images: 0 is the base
    operations: tuple[Operation, ...] = ()
    top: int | None = None
    left: int | None = None
    bottom: int | None = None
    right: int | None = None
    opacity: float = 1.0
    repeat: str | None = None  # x, y or both
    composite: str = "over"
    background: Color | None = None
    # The overlay's pixels, rendered from its input before the base runs (see compose).
    overlay: pyvips.Image | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.left is not None and self.right is not None:
            raise OptionError("draw: give left or right, not both")
        if self.top is not None and self.bottom is not None:
            raise OptionError("draw: give top or bottom, not both")

    def _prepared_overlay(self) -> pyvips.Image:
        if self.overlay is None:
            raise RuntimeError("draw: the overlay was not rendered before running")
        overlay = _rgba(self.overlay)
        if self.background is not None:
            plane = overlay.new_from_image(color_for(overlay, self.background))
            overlay = plane.composite2(overlay, "over").cast("uchar")
        if self.opacity < 1:
            alpha = (overlay[3] * self.opacity).cast("uchar")
            overlay = overlay[:3].bandjoin(alpha)
        return overlay

    def _draw(self, frame: pyvips.Image, overlay: pyvips.Image) -> pyvips.Image:
        base = _eight_bit(frame)
        if base.bands in (1, 2):
            base = base.colourspace("srgb")
        opaque = not base.hasalpha()
        x = _offset(self.left, self.right, base.width, overlay.width)
        y = _offset(self.top, self.bottom, base.height, overlay.height)
        tile_width, tile_height = overlay.width, overlay.height
        if self.repeat in ("x", "both"):  # tiles in line with the placed one, edge to edge
            overlay = overlay.replicate(base.width // tile_width + 2, 1)
            x = x % tile_width - tile_width
        if self.repeat in ("y", "both"):
            overlay = overlay.replicate(1, base.height // tile_height + 2)
            y = y % tile_height - tile_height
        drawn = base.composite2(overlay, COMPOSITE_MODES[self.composite], x=x, y=y)
        if opaque and self.composite in _OPAQUE_ON_OPAQUE:
            drawn = drawn[: drawn.bands - 1]
        return drawn

    def apply(self, canvas: Canvas) -> Canvas:
        overlay = self._prepared_overlay()
        if self.repeat is not None:  # every tile reads it: compute the overlay once
            overlay = overlay.copy_memory()
        return canvas.map_frames(lambda frame: self._draw(frame, overlay))


OPERATIONS: dict[str, type[Operation]] = {
    op.name: op
    for op in (
        TrimOp,
        FlipOp,
        RotateOp,
        ResizeOp,
        AdjustOp,
        BlurOp,
        FaceBlurOp,
        FacePixelateOp,
        SharpenOp,
        BackgroundOp,
        DrawOp,
    )
}


def _kind(name: object) -> type[Operation]:
    kind = OPERATIONS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise malformed(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
    return kind


def operation_from_dict(document: JSON) -> Operation:
    """An operation from its JSON form (`Operation.to_dict`), every parameter checked."""
    if not isinstance(document, Mapping):
        raise malformed("each operation must be an object with an 'op' name")
    name = document.get("op")
    kind = _kind(name)
    unknown = sorted(set(document) - {"op"} - set(kind.parameters))
    if unknown:
        known = ", ".join(kind.parameters)
        raise malformed(f"{name} has no parameter {', '.join(unknown)}; it takes {known}")
    params = {
        key: param.from_json(f"{name}.{key}", document.get(key))
        for key, param in kind.parameters.items()
        if key in document or param.optional
    }
    try:
        return kind(**params)
    except TypeError:
        missing = f"{name} is missing a parameter; it takes {', '.join(kind.parameters)}"
        raise malformed(missing) from None
