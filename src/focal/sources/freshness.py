"""How long a remote original's fingerprint stays good without fetching the original again.

Serving a variant from the cache needs the source's fingerprint, and for a remote original
that takes a fetch, unless the origin said how long its answer stays fresh. As a shared
cache does, Focal honours `Cache-Control` (`s-maxage`, `max-age`; `no-store`, `no-cache`
and `private` mean "ask every time"), and falls back to a configured time when the origin
says nothing. Within that time a cache hit or a 304 costs no fetch at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

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


class FreshSources:
    """Fingerprints of remote originals by URL, each until its freshness runs out."""

    def __init__(
        self, capacity: int = REMEMBERED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.clock = clock
        self._known: OrderedDict[str, tuple[str, float]] = OrderedDict()  # url -> (print, until)
        self._lock = threading.Lock()

    def get(self, url: str) -> str | None:
        with self._lock:
            known = self._known.get(url)
            if known is None:
                return None
            fingerprint, until = known
            if self.clock() >= until:
                del self._known[url]
                return None
            self._known.move_to_end(url)
            return fingerprint

    def put(self, url: str, fingerprint: str, seconds: float) -> None:
        with self._lock:
            if seconds <= 0:
                self._known.pop(url, None)
                return
            self._known[url] = (fingerprint, self.clock() + seconds)
            self._known.move_to_end(url)
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)
