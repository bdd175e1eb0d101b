"""What a resolved source is: the interface the origin folder, remote URLs and hosted images
each implement, and the only one delivery knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Source(Protocol):
    """An original found, with its fingerprint, whose bytes are read only when needed.

    The fingerprint changes whenever the content does, so a cache hit or a 304 needs the
    fingerprint alone and reads nothing.
    """

    @property
    def name(self) -> str:
        """What metering counts by: a replaced original is the same source."""
        ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def original_url(self) -> str:
        """Where onerror=redirect sends the client."""
        ...

    @property
    def in_memory(self) -> bool:
        """Read already (under the request's admission), so `read` costs no I/O."""
        ...

    async def read(self) -> bytes:
        """The original's bytes."""
        ...

    def blocking_read(self) -> Callable[[], bytes] | None:
        """`read` as a blocking call, for the image work to make on its own thread (one hop
        to a thread per request, not two); None when the bytes come by `read` alone."""
        ...
