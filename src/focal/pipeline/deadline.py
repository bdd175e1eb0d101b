"""How long one transformation may run, enforced inside libvips.

libvips computes pixels lazily, when the result is written, and checks the written image's
kill flag as it goes. One watchdog thread per process holds every running deadline and sets
that flag when one passes: libvips stops at its next tile and the save fails, which frees the
thread. Nothing runs in Python while the pixels are computed (a progress callback would take
the interpreter lock from libvips' threads many times per image). One step libvips cannot
interrupt is the palette search of a GIF frame, which is why GIF results have a budget of
their own (`Limits.max_gif_output_pixels`).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

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

    @contextlib.contextmanager
    def watching(self, image: pyvips.Image) -> Iterator[None]:
        """Stop libvips while it computes `image`'s pixels, within this block, once the
        deadline has passed."""
        if self._ends is None:
            yield
            return
        watch = _WATCHDOG.add(self._ends, image)
        try:
            yield
        finally:
            watch.image = None  # done: never killed afterwards, and not kept alive


@dataclass(eq=False)
class _Watch:
    image: pyvips.Image | None


@dataclass
class _Watchdog:
    """Sets the kill flag of each watched image whose deadline passed; one daemon thread,
    started on first use, asleep until the earliest deadline."""

    _heap: list[tuple[float, int, _Watch]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _thread: threading.Thread | None = None

    def add(self, ends: float, image: pyvips.Image) -> _Watch:
        watch = _Watch(image)
        with self._changed:
            heapq.heappush(self._heap, (ends, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="focal-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is watch:
                # Only a new earliest deadline changes when the thread must wake: waking it
                # for every image costs a thread switch and the interpreter lock each time.
                self._changed.notify()
        return watch

    def _run(self) -> None:
        with self._changed:
            while True:
                while self._heap and self._heap[0][2].image is None:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._changed.wait()
                    continue
                remaining = self._heap[0][0] - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                    continue
                image = heapq.heappop(self._heap)[2].image
                if image is not None:
                    image.set_kill(True)


_WATCHDOG = _Watchdog()
