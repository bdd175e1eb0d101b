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
import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from focal.config import Settings
from focal.service.jobs import ImageJobs
from focal.sources.freshness import FreshSources, freshness_seconds
from focal.sources.local import LocalOrigin
from focal.sources.remote import RemoteFetcher


@dataclass(frozen=True)
class ResolvedSource:
    name: str  # what metering counts by: a replaced original is the same source
    fingerprint: str
    original_url: str  # where onerror=redirect sends the client
    # Read already (remote, or an origin file seen for the first time), under an admission.
    data: bytes | None = None
    load: Callable[[], Awaitable[bytes]] | None = None  # reads it when a transformation needs it

    async def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.load is not None, "a resolved source has its bytes or a way to them"
        return await self.load()


def is_remote(source: str) -> bool:
    return source.lower().startswith(("http:/", "https:/"))


def normalize_remote(source: str) -> str:
    """Proxies may merge the two slashes after the scheme: put them back."""
    scheme, _, rest = source.partition(":")
    return f"{scheme.lower()}://{rest.lstrip('/')}"


class Sources:
    def __init__(self, settings: Settings, jobs: ImageJobs) -> None:
        self.settings = settings
        self.jobs = jobs
        self.origin = LocalOrigin(settings.origin_path, settings.max_source_bytes)
        self.fetcher = RemoteFetcher(settings)
        self.fresh = FreshSources()

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def resolve(self, source: str, held: contextlib.AsyncExitStack) -> ResolvedSource:
        """The source and its fingerprint; admissions taken to read it are entered in `held`."""
        if is_remote(source):
            return await self._remote(normalize_remote(source), held)
        local = await asyncio.to_thread(self.origin.stat, source)
        if not local.fingerprint:  # not seen before: read it to hash it
            await held.enter_async_context(self.jobs.admit())
            local = await asyncio.to_thread(self.origin.hashed, local)
        return ResolvedSource(
            f"origin:{local.name}",
            local.fingerprint,
            "/originals/" + source.lstrip("/"),
            data=local.data,
            load=functools.partial(asyncio.to_thread, self.origin.load, local),
        )

    async def _remote(self, url: str, held: contextlib.AsyncExitStack) -> ResolvedSource:
        name = f"url:{url}"
        fresh = self.fresh.fresh(url)
        if fresh is not None:  # fresh by its origin's word: a hit or a 304 fetches nothing
            return ResolvedSource(name, fresh, url, load=self._fetch_bytes(url))
        known = self.fresh.known(url)
        await held.enter_async_context(self.jobs.admit())
        fetched = await self.fetcher.fetch(url, known.validators if known else None)
        lifetime = freshness_seconds(fetched.cache_control, self.settings.remote_freshness_seconds)
        if fetched.not_modified and known is not None:  # unchanged: no body came
            self.fresh.put(url, known.fingerprint, lifetime, known.validators)
            return ResolvedSource(name, known.fingerprint, url, load=self._fetch_bytes(url))
        validator = fetched.etag or hashlib.sha256(fetched.data).hexdigest()
        fingerprint = f"url:{fetched.url}:{validator}"
        self.fresh.put(url, fingerprint, lifetime, fetched.validators())
        return ResolvedSource(name, fingerprint, url, data=fetched.data)

    def _fetch_bytes(self, url: str) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            return (await self.fetcher.fetch(url)).data

        return fetch
