"""Request coalescing: concurrent callers asking for the same key share one piece of work.

A burst of requests for one new variant (or one new original's faces) costs one
transformation (one detection): the first caller starts the work, the others wait for it.
The work runs in a task of its own, not in the first caller's coroutine, so a client that
hangs up cancels only its own wait, never the work the others are waiting for.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """One flight of work per key at a time; used from one event loop."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}
        self.joined = 0  # calls that waited for another's work instead of starting their own

    def __len__(self) -> int:
        """Flights in the air."""
        return len(self._flights)

    def __contains__(self, key: object) -> bool:
        """Whether a flight for `key` is in the air: a `run` now would join it."""
        return key in self._flights

    async def run(self, key: K, work: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """The result of `work()`, or of the same key's work already under way.

        Every caller gets the result, or the exception, of the one flight. `work` is called
        only when no flight for `key` is in the air.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(work())
            self._flights[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))
        else:
            self.joined += 1
        return await asyncio.shield(flight)

    def _landed(self, key: K, flight: asyncio.Future[V]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: the waiting callers got it already
