"""Boxes and landmarks drawn on a copy of an image, for people to check detections by eye."""

from __future__ import annotations

from collections.abc import Sequence

import pyvips

from focal.faces.detector import Face
from focal.vips import load_options

BOX_COLOUR = [255, 64, 0]
LANDMARK_COLOUR = [0, 220, 255]


def draw_faces(data: bytes, faces: Sequence[Face]) -> bytes:
    """A PNG of the upright original with each face's box and five landmarks drawn."""
    image = pyvips.Image.new_from_buffer(data, load_options()).autorot()
    image = image.colourspace("srgb").cast("uchar")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    thickness = max(2, round(max(image.width, image.height) / 400))
    for face in faces:
        x1, y1, x2, y2 = (round(value) for value in face.box)
        for inset in range(thickness):
            image = image.draw_rect(
                BOX_COLOUR,
                x1 + inset,
                y1 + inset,
                max(1, x2 - x1 - 2 * inset),
                max(1, y2 - y1 - 2 * inset),
                fill=False,
            )
        for x, y in face.landmarks:
            image = image.draw_circle(LANDMARK_COLOUR, round(x), round(y), thickness + 1, fill=True)
    return bytes(image.pngsave_buffer(compression=6))
