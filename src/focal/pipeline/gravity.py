"""Where a crop goes: a point, libvips' attention strategy, or the faces in the image.

The face rules follow the hosted product's published algorithm: an outer box around all
faces, its centre as the focal point, and a region of (1 / zoom) × the box, capped by the
image and shifted to stay inside it. A cut that cannot hold every face is placed to keep the
most faces whole and cut through none (focal.pipeline.whole_faces).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from focal.options import Gravity, GravityMode
from focal.pipeline.frames import Canvas
from focal.pipeline.geometry import PLANNERS, Box, center_on, place_by_fraction, target_box
from focal.pipeline.whole_faces import keep_faces_whole

if TYPE_CHECKING:
    from focal.pipeline.operations import ResizeOp


@dataclass(frozen=True)
class FaceRegion:
    """The part of the image that stands in for it, and the focal point inside that part."""

    canvas: Canvas
    focal: tuple[float, float]


def outer_box(faces: tuple[Box, ...]) -> Box:
    """The smallest box holding every face."""
    left = min(face.left for face in faces)
    top = min(face.top for face in faces)
    right = max(face.right for face in faces)
    bottom = max(face.bottom for face in faces)
    return Box(left, top, right - left, bottom - top)


def zoomed_size(box: Box, zoom: float, width: float, height: float) -> tuple[float, float]:
    """(1 / zoom) × the box, never larger than the image; zoom 0 means the whole image."""
    if zoom <= 0:
        return width, height
    return min(box.width / zoom, width), min(box.height / zoom, height)


def grow_to_aspect(
    size: tuple[float, float], aspect: float, width: float, height: float
) -> tuple[float, float]:
    """Widen or heighten a region to `aspect` (w / h), as far as the image allows."""
    region_w, region_h = size
    if region_w / region_h < aspect:
        return min(region_h * aspect, width), region_h
    return region_w, min(region_w / aspect, height)


def face_region(canvas: Canvas, resize: ResizeOp) -> FaceRegion | None:
    """The region around the faces that replaces the image for the resize; None if no faces."""
    if not resize.gravity.uses_faces or not canvas.faces:
        return None
    width, height = canvas.width, canvas.height
    box = outer_box(canvas.faces)
    focal_x, focal_y = box.center
    region_w, region_h = zoomed_size(box, resize.zoom, width, height)
    crops = PLANNERS[resize.fit].crops
    if crops and resize.width is not None and resize.height is not None:
        region_w, region_h = grow_to_aspect(
            (region_w, region_h), resize.width / resize.height, width, height
        )
    cut_w, cut_h = max(1, round(region_w)), max(1, round(region_h))
    left, top = center_on(width, cut_w, focal_x), center_on(height, cut_h, focal_y)
    if (cut_w, cut_h) == (width, height):
        return FaceRegion(canvas, (focal_x, focal_y))
    frames = canvas.map_frames(lambda frame: frame.crop(left, top, cut_w, cut_h))
    faces = canvas.map_faces(lambda face: face.moved(-left, -top))
    return FaceRegion(replace(frames, faces=faces), (focal_x - left, focal_y - top))


def cut_offset(
    canvas: Canvas, size: tuple[int, int], gravity: Gravity, region: FaceRegion | None
) -> tuple[int, int]:
    """Top-left corner of a cut of `size` out of the canvas."""
    width, height = canvas.width, canvas.height
    cut_w, cut_h = size
    if region is not None:
        sx = width / region.canvas.width
        sy = height / region.canvas.height
        focal_x, focal_y = region.focal[0] * sx, region.focal[1] * sy
        seed = center_on(width, cut_w, focal_x), center_on(height, cut_h, focal_y)
        # The seed's cut, unless it cuts faces where another placement keeps them whole.
        return keep_faces_whole((width, height), size, canvas.faces or (), seed)
    if gravity.mode is GravityMode.AUTO and not canvas.measure_only:
        first = canvas.frames()[0]
        _, found = first.smartcrop(
            cut_w, cut_h, interesting="attention", attention_x=True, attention_y=True
        )
        return (
            center_on(width, cut_w, found["attention_x"]),
            center_on(height, cut_h, found["attention_y"]),
        )
    if gravity.mode is GravityMode.POINT:
        return (
            place_by_fraction(width, cut_w, gravity.x),
            place_by_fraction(height, cut_h, gravity.y),
        )
    return place_by_fraction(width, cut_w, 0.5), place_by_fraction(height, cut_h, 0.5)


__all__ = ["FaceRegion", "cut_offset", "face_region", "outer_box", "target_box", "zoomed_size"]
