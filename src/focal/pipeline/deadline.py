"""How long one transformation may run, enforced inside libvips.

libvips computes pixels lazily, when the result is written; while it does, it signals
progress ("eval") on the image being written. The deadline watches that signal and, once past,
sets the image's kill flag: libvips stops at its next tile and the save fails, which frees the
thread. One step libvips cannot interrupt is the palette search of a GIF frame, which is why
GIF results have a budget of their own (`Limits.max_gif_output_pixels`).
"""

from __future__ import annotations

import time

import pyvips

from focal.errors import ErrorKind, FocalError


class Deadline:
    """A transformation's time limit, from its start; `seconds` 0 or less: none."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds if seconds > 0 else None

    @property
    def expired(self) -> bool:
        return self._ends is not None and time.monotonic() >= self._ends

    def exceeded(self) -> FocalError:
        return FocalError(
            ErrorKind.PROCESSING_FAILED,
            f"the transformation took longer than {self.seconds:g} s, the limit of one "
            "transformation, and was stopped: ask for a smaller result, fewer frames "
            "(anim=false) or a format cheaper to write than GIF",
        )

    def check(self) -> None:
        """Between steps: stop before starting the next one."""
        if self.expired:
            raise self.exceeded()

    def watch(self, image: pyvips.Image) -> None:
        """Stop libvips while it computes `image`'s pixels once the deadline has passed."""
        if self._ends is None:
            return
        image.set_progress(True)
        image.signal_connect("eval", self._on_eval)

    def _on_eval(self, image: pyvips.Image, progress: object) -> None:
        if self.expired:
            image.set_kill(True)
