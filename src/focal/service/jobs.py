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


class ImageJobs:
    def __init__(self, workers: int, queue_size: int) -> None:
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue_size)
        self._executor = ThreadPoolExecutor(
            self.workers, thread_name_prefix="focal-image", initializer=name_os_thread
        )
        self._admitted = 0  # only touched from the event loop thread
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
                # Idle: hand the images' memory back. Not after every image: that costs a
                # third more CPU per image, and under load the arenas are reused anyway.
                with contextlib.suppress(RuntimeError):  # the pool is shutting down
                    asyncio.get_running_loop().run_in_executor(
                        self._executor, release_free_memory
                    )

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
        self._executor.shutdown(wait=False, cancel_futures=True)
