"""Image work off the event loop, with bounded concurrency and a bounded queue.

libvips releases the GIL, so a small thread pool uses every core. Requests beyond the pool
and its queue are refused at once (503 with Retry-After) rather than held in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from focal.errors import ErrorKind, FocalError
from focal.memory import name_os_thread, release_free_memory

P = ParamSpec("P")
R = TypeVar("R")


# Seconds without any image in work before this process hands its free memory back.
QUIET_BEFORE_TRIM = 1.0


class ImageJobs:
    def __init__(self, workers: int, queue_size: int) -> None:
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self._executor = ThreadPoolExecutor(
            self.workers, thread_name_prefix="focal-image", initializer=name_os_thread
        )
        self._admitted = 0  # only touched from the event loop thread
        self._idle_since = 0.0  # loop time the last admission ended
        self._trim: asyncio.TimerHandle | None = None
        # Admitted requests wait here before reading their original: only as many originals
        # are in memory as there are threads to work on them.
        self._working = asyncio.Semaphore(self.workers)

    @property
    def admitted(self) -> int:
        return self._admitted

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a place for one request from its first byte read to its last byte written.

        Over capacity the request is refused at once: nothing of it is held in memory.
        """
        if self._admitted >= self.capacity:
            raise FocalError(
                ErrorKind.BUSY,
                f"the server is busy ({self._admitted} images in work or waiting); retry shortly",
            )
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1
            if self._admitted == 0:
                self._idle_since = asyncio.get_running_loop().time()
                if self._trim is None:
                    self._trim = asyncio.get_running_loop().call_later(
                        QUIET_BEFORE_TRIM, self._trim_when_quiet
                    )

    def _trim_when_quiet(self) -> None:
        """Once no image has been in work for QUIET_BEFORE_TRIM seconds, hand the images'
        memory back.

        Not after every image, nor at every moment the count touches zero: under load it
        does many times a second, and each trim makes the next images fault their buffers
        in afresh (measured at c=16: 160-470 page faults per request, 80-90 with this wait).
        """
        loop = asyncio.get_running_loop()
        self._trim = None
        if self._admitted:
            return  # busy again: the next quiet moment schedules a trim
        quiet = loop.time() - self._idle_since
        if quiet < QUIET_BEFORE_TRIM:
            self._trim = loop.call_later(QUIET_BEFORE_TRIM - quiet, self._trim_when_quiet)
            return
        with contextlib.suppress(RuntimeError):  # the pool is shutting down
            loop.run_in_executor(self._executor, release_free_memory)

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Hold one of the image threads' places while an original is read and worked on."""
        async with self._working:
            yield

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run image work on one of the image threads (callers hold an admission), in a copy of
        the caller's context, as `asyncio.to_thread` does: its log lines carry the request id."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def close(self) -> None:
        if self._trim is not None:
            self._trim.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
