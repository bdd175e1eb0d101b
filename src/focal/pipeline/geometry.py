"""Pure geometry: how a fit mode scales and cuts an image, and where a crop goes.

No pixels here, only sizes and rectangles, so every rule can be checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from focal.options import Fit


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels: left, top, width, height (floats during planning)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def center(self) -> tuple[float, float]:
        return self.left + self.width / 2, self.top + self.height / 2

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(self.left * sx, self.top * sy, self.width * sx, self.height * sy)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.top + dy, self.width, self.height)


@dataclass(frozen=True)
class ResizePlan:
    """Scale the whole image to `scaled`, then cut `crop` out of it or pad it to `canvas`."""

    scaled: tuple[int, int]
    crop: tuple[int, int] | None = None  # size of the cut, placed by gravity
    canvas: tuple[int, int] | None = None  # size of the padded canvas, image centred

    @property
    def output(self) -> tuple[int, int]:
        return self.canvas or self.crop or self.scaled


def _round(value: float) -> int:
    """Round half up, never below one pixel."""
    return max(1, math.floor(value + 0.5))


def target_box(
    width: int | None, height: int | None, source: tuple[int, int]
) -> tuple[float, float] | None:
    """The requested box; a missing side follows the source's aspect ratio."""
    src_w, src_h = source
    if width is None and height is None:
        return None
    if width is None:
        assert height is not None
        return height * src_w / src_h, float(height)
    if height is None:
        return float(width), width * src_h / src_w
    return float(width), float(height)


@dataclass(frozen=True)
class FitBox:
    """What a fit planner reads: the source's size and the box it is fitted to."""

    source: tuple[int, int]
    box: tuple[float, float]  # a missing side already follows the source's aspect ratio
    both: bool  # both width and height were given

    @property
    def contain(self) -> float:
        """The scale that fits the source inside the box."""
        return min(self.box[0] / self.source[0], self.box[1] / self.source[1])

    @property
    def cover(self) -> float:
        """The scale that makes the source cover the box."""
        return max(self.box[0] / self.source[0], self.box[1] / self.source[1])

    @property
    def exact(self) -> tuple[int, int]:
        """The box in whole pixels."""
        return _round(self.box[0]), _round(self.box[1])

    def scaled(self, scale: float) -> tuple[int, int]:
        return _round(self.source[0] * scale), _round(self.source[1] * scale)


def _scale_down(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.scaled(min(fit.contain, 1.0)))


def _contain(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.scaled(fit.contain))


def _scale_up(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.scaled(max(fit.contain, 1.0)))


def _squeeze(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.exact)


def _pad(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.scaled(fit.contain), canvas=fit.exact if fit.both else None)


def _cover(fit: FitBox) -> ResizePlan:
    return ResizePlan(fit.scaled(fit.cover), crop=fit.exact)


def _crop(fit: FitBox) -> ResizePlan:
    inner = fit.scaled(min(fit.cover, 1.0))
    box_w, box_h = fit.exact
    return ResizePlan(inner, crop=(min(box_w, inner[0]), min(box_h, inner[1])))


def _aspect_crop(fit: FitBox) -> ResizePlan:
    if fit.cover <= 1.0:
        return _cover(fit)
    # Too small to cover the box: keep the target's aspect ratio without enlarging.
    (src_w, src_h), (box_w, box_h) = fit.source, fit.box
    aspect = box_w / box_h
    crop_w, crop_h = min(float(src_w), src_h * aspect), min(float(src_h), src_w / aspect)
    return ResizePlan((src_w, src_h), crop=(_round(crop_w), _round(crop_h)))


@dataclass(frozen=True)
class FitRule:
    """What one fit mode does: its planner, and whether it cuts the image by gravity."""

    plan: Callable[[FitBox], ResizePlan]
    # A cut placed by gravity: a face region is first grown to the box's aspect ratio.
    crops: bool = False


PLANNERS: Mapping[Fit, FitRule] = {
    Fit.SCALE_DOWN: FitRule(_scale_down),
    Fit.CONTAIN: FitRule(_contain),
    Fit.COVER: FitRule(_cover, crops=True),
    Fit.CROP: FitRule(_crop, crops=True),
    Fit.ASPECT_CROP: FitRule(_aspect_crop, crops=True),
    Fit.PAD: FitRule(_pad),
    Fit.SQUEEZE: FitRule(_squeeze),
    Fit.SCALE_UP: FitRule(_scale_up),
}


def plan_resize(
    fit: Fit, width: int | None, height: int | None, source: tuple[int, int]
) -> ResizePlan | None:
    """How `fit` turns an image of size `source` into one for the width × height box.

    None when nothing changes size.
    """
    box = target_box(width, height, source)
    if box is None:
        return None
    return PLANNERS[fit].plan(FitBox(source, box, both=width is not None and height is not None))


def place_by_fraction(size: int, cut: int, fraction: float) -> int:
    """Offset of a cut inside `size`, keeping `fraction` of the remainder before it."""
    return max(0, min(size - cut, _round_offset((size - cut) * fraction)))


def center_on(size: int, cut: int, center: float) -> int:
    """Offset of a cut centred on `center`, shifted (never shrunk) to stay inside."""
    return max(0, min(size - cut, _round_offset(center - cut / 2)))


def _round_offset(value: float) -> int:
    return math.floor(value + 0.5)
