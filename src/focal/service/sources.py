"""Finding an original and its fingerprint: the origin folder or a remote origin.

A fingerprint is known without reading the original whenever possible (an origin file whose
content hash is remembered by its stat; a remote original its origin says is still fresh, or
confirms unchanged to a conditional GET), so that cache hits and 304s read nothing. Bytes
brought into memory to find a fingerprint are read under an admission of the image jobs, so
that over capacity nothing is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re

from focal.errors import ErrorKind, FocalError
from focal.service.jobs import ImageJobs
from focal.sources.base import Source
from focal.sources.freshness import FreshSources, freshness_seconds
from focal.sources.local import LocalFileSource, LocalOrigin
from focal.sources.remote import RemoteFetcher, UrlSource

# A source that starts like a URL (`scheme:/…`) names a remote original, never a file path.
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):/", re.IGNORECASE)
_FETCHABLE_SCHEMES = ("http", "https")


def url_scheme(source: str) -> str | None:
    """The scheme a source string starts with (`ftp` for `ftp://…`), or None for a path."""
    match = _URL_SCHEME.match(source)
    return match.group(1).lower() if match else None


def is_remote(source: str) -> bool:
    return url_scheme(source) in _FETCHABLE_SCHEMES


def refuse_unfetchable_scheme(source: str) -> None:
    """A URL of another scheme than http(s) is an invalid URL (9406), not a missing file."""
    scheme = url_scheme(source)
    if scheme is not None and scheme not in _FETCHABLE_SCHEMES:
        raise FocalError(
            ErrorKind.INVALID_URL,
            f"{scheme}:// sources cannot be fetched: give an http:// or https:// URL, "
            "or a path in the origin folder",
        )


def normalize_remote(source: str) -> str:
    """Proxies may merge the two slashes after the scheme: put them back."""
    scheme, _, rest = source.partition(":")
    return f"{scheme.lower()}://{rest.lstrip('/')}"


class Sources:
    """Finds the `Source` a URL names: in the origin folder, or at an allowed remote origin."""

    def __init__(
        self,
        origin: LocalOrigin,
        fetcher: RemoteFetcher,
        fresh: FreshSources,
        jobs: ImageJobs,
        default_freshness: float,
    ) -> None:
        self.origin = origin
        self.fetcher = fetcher
        self.fresh = fresh
        self.jobs = jobs
        self.default_freshness = default_freshness  # seconds, when an origin says nothing

    async def resolve(self, source: str, held: contextlib.AsyncExitStack) -> Source:
        """The source and its fingerprint; admissions taken to read it are entered in `held`."""
        if is_remote(source):
            return await self._remote(normalize_remote(source), held)
        refuse_unfetchable_scheme(source)
        local = self.origin.stat(source)  # a few system calls: cheaper than a thread hop
        if not local.fingerprint:  # not seen before: read it to hash it
            await held.enter_async_context(self.jobs.admit())
            local = await asyncio.to_thread(self.origin.hashed, local)
        return LocalFileSource(self.origin, local)

    async def _remote(self, url: str, held: contextlib.AsyncExitStack) -> Source:
        fresh = self.fresh.fresh(url)
        if fresh is not None:  # fresh by its origin's word: a hit or a 304 fetches nothing
            return UrlSource(url, fresh, self.fetcher)
        known = self.fresh.known(url)
        await held.enter_async_context(self.jobs.admit())
        fetched = await self.fetcher.fetch(url, known.validators if known else None)
        lifetime = freshness_seconds(fetched.cache_control, self.default_freshness)
        if fetched.not_modified and known is not None:  # unchanged: no body came
            self.fresh.put(url, known.fingerprint, lifetime, known.validators)
            return UrlSource(url, known.fingerprint, self.fetcher)
        validator = fetched.etag or hashlib.sha256(fetched.data).hexdigest()
        fingerprint = f"url:{fetched.url}:{validator}"
        self.fresh.put(url, fingerprint, lifetime, fetched.validators())
        return UrlSource(url, fingerprint, self.fetcher, data=fetched.data)
