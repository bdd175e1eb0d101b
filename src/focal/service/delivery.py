"""Delivery of `/cdn-cgi/image/<options>/<source>`: resolve the source, transform, describe.

Knows nothing of HTTP frameworks: it takes the parts of a request and returns status, headers
and body, or raises a FocalError.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from focal.config import Settings
from focal.errors import ErrorKind, FocalError
from focal.header_values import etag_matches, header_value
from focal.options import Options, canonical
from focal.pipeline import Limits, Output, probe
from focal.request_context import note
from focal.service.faces import FaceLocator, FaceLookup
from focal.service.hints import ClientHints, client_headers, client_identity
from focal.service.jobs import ImageJobs
from focal.service.metering import Meter, transformation_key
from focal.service.process_locks import KeyLocks
from focal.service.result_cache import CachedResult, ResultCache, result_key
from focal.service.shared_results import SharedResults
from focal.service.single_flight import SingleFlight
from focal.service.sources import Sources, is_remote
from focal.service.transform import Described, read_and_transform, transform
from focal.service.url_access import RequestTarget, UrlAccess
from focal.sources.base import Source
from focal.sources.origins import is_loop


@dataclass(frozen=True)
class Delivery:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Made:
    """One transformation's result, shared by the requests that waited for it."""

    identity: str  # with "faces-unavailable" when the detector failed
    result: CachedResult
    no_store: bool


def _etag(identity: str) -> str:
    return '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'


def _describe_gravity(lookup: FaceLookup) -> str:
    """What gravity=face did, for the Focal-Gravity header."""
    if lookup.faces is None:
        # The reason is a detector's error text: one line, quotes escaped, bounded.
        reason = header_value(lookup.reason, limit=200)
        reason = reason.replace("\\", "\\\\").replace('"', '\\"')
        return f'center; reason="face detection unavailable: {reason}"'
    if not lookup.faces:
        return 'center; reason="no face found"'
    return f"face; faces={len(lookup.faces)}; from={lookup.origin}"


class DeliveryService:
    """Runs `/cdn-cgi/image/` requests and hosted variants; built by `focal.service.parts`."""

    def __init__(
        self,
        settings: Settings,
        *,
        limits: Limits,
        jobs: ImageJobs,
        sources: Sources,
        faces: FaceLocator,
        meter: Meter,
        results: ResultCache | None,
        shared: SharedResults | None,
        access: UrlAccess,
        processes: KeyLocks | None = None,
    ) -> None:
        self.settings = settings
        self.access = access  # signed URLs, unsigned options, presets
        self.limits = limits
        self.jobs = jobs
        self.sources = sources
        self.faces = faces
        self.meter = meter
        self.results = results  # this server's cache; None when FOCAL_RESULT_CACHE_BYTES=0
        self.shared = shared  # the fleet's; None without FOCAL_SHARED_RESULTS_URL
        # Concurrent requests for one variant wait on the same transformation: in this
        # process, and with several processes, across them (through the result cache).
        self._making: SingleFlight[str, _Made] = SingleFlight()
        self._processes = processes if results is not None else None
        self.waited_for_other_process = 0
        self._sharing: set[asyncio.Task[None]] = set()  # writes to the fleet's store
        self.transformations = 0  # transformations started (not cache hits nor waiters)

    @property
    def coalesced(self) -> int:
        """Requests that waited for another's transformation of their variant."""
        return self._making.joined + self.waited_for_other_process

    async def settle(self) -> None:
        """Wait for the writes to the fleet's store started so far."""
        while self._sharing:
            await asyncio.gather(*self._sharing)

    def variant_identity(
        self, options: Options, canonical_options: str, hints: ClientHints, fingerprint: str
    ) -> str:
        """Everything the response depends on: source, options, and the client facts used."""
        return "\n".join([fingerprint, canonical_options, *client_identity(options, hints)])

    def _vary(self, options: Options) -> str | None:
        return ", ".join(client_headers(options)) or None

    async def deliver(
        self,
        options_text: str,
        source: str,
        headers: Mapping[str, str],
        target: RequestTarget,
    ) -> Delivery:
        """`headers` with lower-case names; `target` is the request's path and query as sent,
        which a signature covers and of which a remote source keeps its own query."""
        if is_loop(headers.get("via"), self.settings.via_marker):
            raise FocalError(
                ErrorKind.LOOP,
                "this request already passed through Focal (Via header): refusing to loop",
            )
        remote = is_remote(source)
        source_query = self.access.source_query(target)
        if remote and source_query:
            source = f"{source}?{source_query}"
        options = self.access.parse(options_text)
        self.access.check(target, options, remote)
        hints = ClientHints.from_headers(headers)
        async with contextlib.AsyncExitStack() as held:
            resolved = await self.sources.resolve(source, held)
            return await self.deliver_resolved(options, hints, resolved, headers)

    async def deliver_resolved(
        self,
        options: Options,
        hints: ClientHints,
        resolved: Source,
        headers: Mapping[str, str],
        cache_control: str | None = None,
        *,
        metered: bool = True,
    ) -> Delivery:
        """A variant of a source already found.

        `metered=False`: not counted as a transformation, nor refused by its quota (hosted
        images are billed as stored and delivered instead).

        Only bytes in memory and the transformation take a place in `self.jobs`: cache hits
        and requests waiting for another's transformation of their variant hold none (unless
        they read their source), so a burst for one variant is not refused as busy.
        """
        canonical_options = canonical(options)
        note(options=canonical_options)
        identity = self.variant_identity(options, canonical_options, hints, resolved.fingerprint)
        common = {"Cache-Control": cache_control or self.settings.cache_control}
        vary = self._vary(options)
        if vary:
            common["Vary"] = vary
        if etag_matches(headers.get("if-none-match", ""), _etag(identity)):
            note(cache="not-modified")
            return Delivery(304, {**common, "ETag": _etag(identity)})
        key = result_key(identity)
        # format=json describes and makes nothing: free, like the SDK's info.
        metered_key = None
        if metered and options.format != "json":
            metered_key = transformation_key(resolved.name, canonical_options)
        cached = await self._cached(key)
        if cached is not None:
            if metered_key is not None:  # a new window counts it again, quota or not
                await self.meter.count(metered_key, enforce_quota=False)
            headers = {**common, **cached.headers, "ETag": _etag(identity)}
            note(gravity=cached.headers.get("Focal-Gravity"))
            return Delivery(200, {**headers, "Content-Type": cached.content_type}, cached.body)
        note(cache="coalesced" if key in self._making else "miss")
        make = functools.partial(self._make, key, identity, options, hints, resolved, metered_key)
        try:
            made = await self._making.run(
                key, functools.partial(self._make_once, key, identity, make)
            )
        except FocalError as error:
            if options.onerror == "redirect" and error.status not in (429, 503):
                note(error=error.code, error_message=error.message)  # answered with a redirect
                return Delivery(
                    302, {"Location": resolved.original_url, "Cf-Resized": f"err={error.code}"}
                )
            raise
        headers = {**common, **made.result.headers, "ETag": _etag(made.identity)}
        note(gravity=made.result.headers.get("Focal-Gravity"))
        if made.no_store:
            headers["Cache-Control"] = "no-store"
        return Delivery(
            200, {**headers, "Content-Type": made.result.content_type}, made.result.body
        )

    async def _cached(self, key: str) -> CachedResult | None:
        """From this server's cache, else from the fleet's (and then kept here too)."""
        if self.results is not None:
            cached = await asyncio.to_thread(self.results.get, key)
            if cached is not None:
                note(cache="hit")
                return cached
        if self.shared is None:
            return None
        cached = await asyncio.to_thread(self.shared.get, key)
        note(cache="shared" if cached is not None else None)
        if cached is not None and self.results is not None:
            await self._keep_here(key, cached)
        return cached

    async def _make_once(
        self, key: str, identity: str, make: Callable[[], Awaitable[_Made]]
    ) -> _Made:
        """`make()`, unless another server process is making the same variant: then its
        result, from the cache, once it is done."""
        if self._processes is None:
            return await make()
        async with self._processes.hold(f"variant-{key}") as waited:
            if waited:
                assert self.results is not None
                made = await asyncio.to_thread(self.results.get, key, counted=False)
                if made is not None:  # else it failed, or was not to be kept: make it here
                    self.waited_for_other_process += 1
                    note(cache="coalesced")
                    return _Made(identity, made, no_store=False)
            return await make()

    async def _make(
        self,
        key: str,
        identity: str,
        options: Options,
        hints: ClientHints,
        resolved: Source,
        metered: str | None,
    ) -> _Made:
        """Read, check the limits, find faces if asked, transform and count; then keep the
        result.

        The limits are checked from the header before anything decodes the original, face
        detection included. Counted once made: a transformation that fails costs nothing,
        and is not kept.
        """
        # A place in image work for the work; a source read already was read under its
        # request's place, which the work uses.
        place = contextlib.nullcontext() if resolved.in_memory else self.jobs.admit()
        async with place, self.jobs.working():
            if metered is not None:
                await self.meter.check(metered)  # past the quota, refuse before any work
            self.transformations += 1
            result, lookup, extra = await self._transform(options, hints, resolved)
            if metered is not None:
                await self.meter.count(metered)
        if isinstance(result, Described):
            made = CachedResult(json.dumps(result.body).encode(), "application/json", extra)
        else:
            if result.fallback_from is not None:  # Content-Type says the format; this, why
                extra["Focal-Format"] = f"{result.format}; fallback-from={result.fallback_from}"
            made = CachedResult(result.data, result.media_type, extra)
        if lookup is not None and lookup.faces is None:
            # A centre crop made while the detector was down is not kept as the answer: the
            # next request should get the faces.
            return _Made(identity + "\nfaces-unavailable", made, no_store=True)
        await self._keep(key, made)
        return _Made(identity, made, no_store=False)

    async def _transform(
        self, options: Options, hints: ClientHints, resolved: Source
    ) -> tuple[Output | Described, FaceLookup | None, dict[str, str]]:
        """The result, the faces looked up for it, and the headers that say what they did."""
        read = None if options.needs_faces else resolved.blocking_read()
        if read is not None:  # read on the image thread: one hop to a thread, not two
            result = await self.jobs.run(read_and_transform, read, options, hints, self.limits)
            return result, None, {}
        data = await resolved.read()
        source = lookup = None
        extra: dict[str, str] = {}
        if options.needs_faces:
            # The limits first, from the header: detection decodes the original.
            source = await self.jobs.run(probe, data, self.limits)
            lookup = await self.faces.locate(data)
            if options.gravity.uses_faces:
                extra["Focal-Gravity"] = _describe_gravity(lookup)
            elif lookup.faces is not None:  # faces hidden: how many, found where
                extra["Focal-Faces"] = f"faces={len(lookup.faces)}; from={lookup.origin}"
        result = await self.jobs.run(transform, data, options, hints, self.limits, lookup, source)
        return result, lookup, extra

    async def _keep(self, key: str, made: CachedResult) -> None:
        """Into this server's cache, and into the fleet's in the background."""
        faces_named = [name for name in ("Focal-Gravity", "Focal-Faces") if name in made.headers]
        if faces_named:
            # Later hits did not look the faces up: say where the answer came from.
            headers = dict(made.headers)
            for name in faces_named:
                headers[name] = re.sub(r"from=\w+", "from=cache", headers[name])
            made = CachedResult(made.body, made.content_type, headers)
        if self.results is not None:
            await self._keep_here(key, made)
        if self.shared is not None:
            # A slow or hung store must not hold the answer. SharedResults.put never raises.
            sharing = asyncio.create_task(asyncio.to_thread(self.shared.put, key, made))
            self._sharing.add(sharing)
            sharing.add_done_callback(self._sharing.discard)

    async def _keep_here(self, key: str, result: CachedResult) -> None:
        assert self.results is not None
        try:
            await asyncio.to_thread(self.results.put, key, result)
        except OSError as error:  # a full or read-only disk costs speed, not the answer
            log.warning("result cache: cannot keep %s: %s", key, error)
