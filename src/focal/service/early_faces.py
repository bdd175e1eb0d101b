"""Faces of hosted uploads found in the background, before anyone asks for them.

An upload queues its original here and is answered at once; one background task finds the
faces through the face locator, which keeps them in memory and in the catalog, so the first
`gravity=face` delivery finds its boxes there. The queue is bounded and holds references,
not bytes (the original is read from the blob store when its turn comes); when it is full an
upload's faces are left for its first delivery to find, and a log line says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from focal.service.faces import FaceLocator

log = logging.getLogger("focal.faces")

Read = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class _Queued:
    name: str  # for log lines
    content_hash: str  # the locator's key: the SHA-256 of the original
    read: Read


class EarlyFaces:
    """A bounded queue of originals whose faces one background task finds, one at a time."""

    def __init__(self, locator: FaceLocator, capacity: int) -> None:
        self.locator = locator
        self.capacity = capacity
        self._queue: asyncio.Queue[_Queued] | None = None
        self._task: asyncio.Task[None] | None = None
        self.queued = 0  # counters, for /metrics and tests
        self.dropped = 0
        self.found = 0
        self.failed = 0

    def queue(self, name: str, content_hash: str, read: Read) -> bool:
        """Queue one original without waiting; False when it is not queued (full or off)."""
        if self.capacity <= 0:
            return False
        if self._queue is None:  # made on first use, in the running loop
            self._queue = asyncio.Queue(self.capacity)
        try:
            self._queue.put_nowait(_Queued(name, content_hash, read))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "face detection at upload: the queue is full (%d waiting); the faces of %s "
                "are found on its first delivery instead",
                self.capacity,
                name,
            )
            return False
        self.queued += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._work(self._queue))
        return True

    async def _work(self, queue: asyncio.Queue[_Queued]) -> None:
        while True:
            item = await queue.get()
            try:
                await self._find(item)
            finally:
                queue.task_done()

    async def _find(self, item: _Queued) -> None:
        try:
            data = await item.read()
            lookup = await self.locator.locate(data, item.content_hash)
        except Exception as error:  # a deleted image, a failing store: the delivery retries
            self.failed += 1
            log.warning("face detection at upload: %s: %s", item.name, error)
            return
        if lookup.faces is None:
            self.failed += 1
            log.warning("face detection at upload: %s: %s", item.name, lookup.reason)
            return
        self.found += 1

    @property
    def waiting(self) -> int:
        return 0 if self._queue is None else self._queue.qsize()

    async def drained(self) -> None:
        """Wait until every queued original has had its faces looked for."""
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        """Stop the background task; what is still queued is found on delivery instead."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
