"""Hiding faces: every face box blurred or pixelated, with a strength that follows its size.

A strength is a percentage of each face's size (the longer side of its box), so a face in
the back of a group photo is hidden as well as the one in front, at any output size. The
box is grown a little first: detection boxes run from the hairline to the chin, and the ears
and hair around them also tell who someone is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pyvips

from focal.pipeline.geometry import Box

# Each side of a face box is pushed out by this fraction of its length before hiding.
MARGIN = 0.2
# A pixelated block never gets smaller than this, or a small face would be left as it was.
MIN_BLOCK = 3


def face_size(face: Box) -> float:
    return max(face.width, face.height)


def hidden_area(face: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The face box grown by MARGIN, in whole pixels inside the frame; None if outside."""
    grow_x, grow_y = face.width * MARGIN, face.height * MARGIN
    left = max(0, math.floor(face.left - grow_x))
    top = max(0, math.floor(face.top - grow_y))
    right = min(width, math.ceil(face.right + grow_x))
    bottom = min(height, math.ceil(face.bottom + grow_y))
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top


def _blurred(area: pyvips.Image, face: Box, percent: float) -> pyvips.Image:
    radius = max(1.0, face_size(face) * percent / 100)
    return area.gaussblur(radius / 2)  # a Gaussian reaches about two sigmas: radius ≈ 2σ


def _pixelated(area: pyvips.Image, face: Box, percent: float) -> pyvips.Image:
    block = max(MIN_BLOCK, round(face_size(face) * percent / 100))
    width, height = area.width, area.height
    # Whole blocks, from the area's top-left corner; the last ones reach past it, by copies.
    across, down = math.ceil(width / block), math.ceil(height / block)
    padded = area.embed(0, 0, across * block, down * block, extend="copy")
    blocks = padded.shrink(block, block).cast(area.format)
    return blocks.zoom(block, block).crop(0, 0, width, height)


def _hide(
    frame: pyvips.Image,
    faces: Sequence[Box],
    percent: float,
    change: Callable[[pyvips.Image, Box, float], pyvips.Image],
) -> pyvips.Image:
    alpha = bool(frame.hasalpha())
    work = frame.premultiply() if alpha else frame  # so transparent pixels do not bleed in
    for face in faces:
        area = hidden_area(face, frame.width, frame.height)
        if area is None:
            continue
        left, top, width, height = area
        hidden = change(work.crop(left, top, width, height), face, percent)
        work = work.insert(hidden, left, top)
    if alpha:
        return work.unpremultiply().cast(frame.format)
    return work.cast(frame.format)


def blur_faces(frame: pyvips.Image, faces: Sequence[Box], percent: float) -> pyvips.Image:
    """`frame` with every face blurred, at a radius of `percent` % of the face's size."""
    return _hide(frame, faces, percent, _blurred)


def pixelate_faces(frame: pyvips.Image, faces: Sequence[Box], percent: float) -> pyvips.Image:
    """`frame` with every face in blocks of `percent` % of the face's size."""
    return _hide(frame, faces, percent, _pixelated)
