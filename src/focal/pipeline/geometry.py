"""Pure geometry: how a fit mode scales and cuts an image, and where a crop goes.

No pixels here, only sizes and rectangles, so every rule can be checked exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from focal.errors import OptionError


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


def plan_resize(
    fit: str, width: int | None, height: int | None, source: tuple[int, int]
) -> ResizePlan | None:
    """How `fit` turns an image of size `source` into one for the width × height box.

    None when nothing changes size.
    """
    box = target_box(width, height, source)
    if box is None:
        return None
    src_w, src_h = source
    box_w, box_h = box
    both = width is not None and height is not None
    contain = min(box_w / src_w, box_h / src_h)
    cover = max(box_w / src_w, box_h / src_h)

    def scaled(scale: float) -> tuple[int, int]:
        return _round(src_w * scale), _round(src_h * scale)

    if fit == "scale-down":
        return ResizePlan(scaled(min(contain, 1.0)))
    if fit == "contain":
        return ResizePlan(scaled(contain))
    if fit == "scale-up":
        return ResizePlan(scaled(max(contain, 1.0)))
    if fit == "squeeze":
        return ResizePlan((_round(box_w), _round(box_h)))
    if fit == "pad":
        inner = scaled(contain)
        return ResizePlan(inner, canvas=(_round(box_w), _round(box_h)) if both else None)
    if fit == "cover":
        return ResizePlan(scaled(cover), crop=(_round(box_w), _round(box_h)))
    if fit == "crop":
        scale = min(cover, 1.0)
        inner = scaled(scale)
        return ResizePlan(inner, crop=(min(_round(box_w), inner[0]), min(_round(box_h), inner[1])))
    if fit == "aspect-crop":
        if cover <= 1.0:
            return ResizePlan(scaled(cover), crop=(_round(box_w), _round(box_h)))
        # Too small to cover the box: keep the target's aspect ratio without enlarging.
        aspect = box_w / box_h
        crop_w, crop_h = min(float(src_w), src_h * aspect), min(float(src_h), src_w / aspect)
        return ResizePlan((src_w, src_h), crop=(_round(crop_w), _round(crop_h)))
    raise OptionError(f"fit={fit!r} is not valid")


def place_by_fraction(size: int, cut: int, fraction: float) -> int:
    """Offset of a cut inside `size`, keeping `fraction` of the remainder before it."""
    return max(0, min(size - cut, _round_offset((size - cut) * fraction)))


def center_on(size: int, cut: int, center: float) -> int:
    """Offset of a cut centred on `center`, shifted (never shrunk) to stay inside."""
    return max(0, min(size - cut, _round_offset(center - cut / 2)))


def _round_offset(value: float) -> int:
    return math.floor(value + 0.5)
