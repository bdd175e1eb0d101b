"""How long a remote original's fingerprint stays good without fetching the original again.

Serving a variant from the cache needs the source's fingerprint, and for a remote original
that takes a fetch, unless the origin said how long its answer stays fresh. As a shared
cache does, Focal honours `Cache-Control` (`s-maxage`, `max-age`; `no-store`, `no-cache`
and `private` mean "ask every time"), and falls back to a configured time when the origin
says nothing. Within that time a cache hit or a 304 costs no fetch at all; past it, an
original with an ETag or Last-Modified is revalidated by a conditional GET, which costs no
body when it has not changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache

REMEMBERED = 65_536  # remote URLs whose fingerprint is kept (a few MB)
_ASK_EVERY_TIME = ("no-store", "no-cache", "private")


def freshness_seconds(cache_control: str | None, default: float) -> float:
    """The seconds an origin's answer stays fresh by its Cache-Control, else `default`."""
    directives: dict[str, str] = {}
    for item in (cache_control or "").split(","):
        name, _, value = item.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if any(name in directives for name in _ASK_EVERY_TIME):
        return 0.0
    for name in ("s-maxage", "max-age"):  # a shared cache prefers s-maxage
        if name in directives:
            try:
                return max(0.0, float(int(directives[name])))
            except ValueError:
                return 0.0  # malformed: treat as stale, as RFC 9111 says
    return default


@dataclass(frozen=True)
class KnownSource:
    fingerprint: str
    fresh_until: float  # on the clock of FreshSources
    validators: dict[str, str]  # If-None-Match / If-Modified-Since, to ask once it is stale


class FreshSources:
    """What is known of remote originals by URL: fingerprints, until when they are fresh, and
    how to ask the origin cheaply (a conditional GET) whether a stale one still holds."""

    def __init__(
        self, capacity: int = REMEMBERED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.clock = clock
        self._known: LRUCache[str, KnownSource] = LRUCache(capacity)
        self._lock = threading.Lock()

    def known(self, url: str) -> KnownSource | None:
        """Fresh or stale: whatever is remembered of `url`."""
        with self._lock:
            return self._known.get(url)

    def fresh(self, url: str) -> str | None:
        """The fingerprint of `url` if it is still fresh."""
        known = self.known(url)
        if known is None or self.clock() >= known.fresh_until:
            return None
        return known.fingerprint

    def put(
        self, url: str, fingerprint: str, seconds: float, validators: dict[str, str]
    ) -> None:
        """Remember `url` for `seconds`; past that, only if it can be revalidated."""
        with self._lock:
            if seconds <= 0 and not validators:
                self._known.pop(url, None)  # nothing to reuse, nothing to ask with
                return
            until = self.clock() + max(0.0, seconds)
            self._known[url] = KnownSource(fingerprint, until, validators)
