"""The image being worked on: one frame, or the frames of an animation stacked vertically."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import pyvips

from focal.pipeline.geometry import Box


@dataclass(frozen=True)
class Canvas:
    """Pixels plus what travels with them: frame count and face boxes in current pixels."""

    image: pyvips.Image
    pages: int = 1
    faces: tuple[Box, ...] | None = None  # None: not detected; () detected none
    measure_only: bool = False  # planning a size (format=json): skip pixel analysis

    # Read once per canvas: each read of a libvips property is several calls into the
    # library, each releasing and taking back the interpreter lock, which the event loop and
    # the other image threads compete for.
    @functools.cached_property
    def width(self) -> int:
        return int(self.image.width)

    @functools.cached_property
    def height(self) -> int:
        """Height of one frame."""
        return int(self.image.height) // self.pages

    def frames(self) -> list[pyvips.Image]:
        if self.pages == 1:
            return [self.image]
        height = self.height
        return [
            self.image.crop(0, index * height, self.width, height) for index in range(self.pages)
        ]

    def map_frames(self, change: Callable[[pyvips.Image], pyvips.Image]) -> Canvas:
        """Apply one change to every frame alike."""
        if self.pages == 1:
            return replace(self, image=change(self.image))
        frames = [change(frame) for frame in self.frames()]
        joined = pyvips.Image.arrayjoin(frames, across=1)
        joined = joined.copy()
        joined.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
        return replace(self, image=joined)

    def map_faces(self, move: Callable[[Box], Box | None]) -> tuple[Box, ...] | None:
        if self.faces is None:
            return None
        moved = (move(face) for face in self.faces)
        return tuple(face for face in moved if face is not None)

    def with_image(self, image: pyvips.Image) -> Canvas:
        return replace(self, image=image)
