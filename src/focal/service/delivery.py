"""Delivery of `/cdn-cgi/image/<options>/<source>`: resolve the source, transform, describe.

Knows nothing of HTTP frameworks: it takes the parts of a request and returns status, headers
and body, or raises a FocalError.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from focal.catalog import FaceBoxStore, catalog_url, open_catalog
from focal.config import Settings
from focal.errors import ErrorKind, FocalError
from focal.faces.workers import DetectorPool
from focal.options import Options, canonical, parse_options
from focal.pipeline import Limits
from focal.service.faces import FaceLocator, FaceLookup, content_hash, detector_identity
from focal.service.hints import ClientHints
from focal.service.jobs import ImageJobs
from focal.service.transform import Described, transform
from focal.sources.local import LocalFile, LocalOrigin
from focal.sources.origins import is_loop
from focal.sources.remote import RemoteFetcher


@dataclass(frozen=True)
class Delivery:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class ResolvedSource:
    fingerprint: str
    original_url: str  # where onerror=redirect sends the client
    data: bytes | None = None  # fetched already (remote)
    local: LocalFile | None = None  # still to be read (origin folder)


def is_remote(source: str) -> bool:
    return source.lower().startswith(("http:/", "https:/"))


def normalize_remote(source: str) -> str:
    """Proxies may merge the two slashes after the scheme: put them back."""
    scheme, _, rest = source.partition(":")
    return f"{scheme.lower()}://{rest.lstrip('/')}"


def _etag(identity: str) -> str:
    return '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'


def _describe_gravity(lookup: FaceLookup) -> str:
    """What gravity=face did, for the Focal-Gravity header."""
    if lookup.faces is None:
        return f'center; reason="face detection unavailable: {lookup.reason}"'
    if not lookup.faces:
        return 'center; reason="no face found"'
    return f"face; faces={len(lookup.faces)}; from={lookup.origin}"


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [item.strip().removeprefix("W/") for item in header.split(",")]
    return "*" in candidates or etag in candidates


class DeliveryService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = Limits(
            max_bytes=settings.max_source_bytes,
            max_pixels=settings.max_pixels,
            max_side=settings.max_side,
        )
        self.origin = LocalOrigin(settings.origin_path, settings.max_source_bytes)
        self.fetcher = RemoteFetcher(settings)
        self.jobs = ImageJobs(settings.image_concurrency, settings.queue_size)
        self.catalog = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
        self.detectors = DetectorPool(
            workers=settings.detector_workers,
            task_timeout=settings.detector_timeout,
            max_rss_bytes=settings.detector_max_rss_mib * 1024 * 1024,
            max_side=settings.detect_max_side,
            intra_op_threads=settings.detector_threads,
        )
        self.faces = FaceLocator(
            self.detectors,
            FaceBoxStore(self.catalog, detector_identity(settings.detect_max_side)),
            settings.face_cache_size,
        )

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.detectors.aclose()
        self.jobs.close()
        self.catalog.dispose()

    async def locate_faces(self, data: bytes) -> FaceLookup:
        key = await asyncio.to_thread(content_hash, data)
        return await self.faces.locate(data, key)

    async def resolve(self, source: str) -> ResolvedSource:
        if is_remote(source):
            url = normalize_remote(source)
            fetched = await self.fetcher.fetch(url)
            validator = fetched.etag or hashlib.sha256(fetched.data).hexdigest()
            return ResolvedSource(f"url:{fetched.url}:{validator}", url, data=fetched.data)
        local = await asyncio.to_thread(self.origin.stat, source)
        return ResolvedSource(local.fingerprint, "/originals/" + source.lstrip("/"), local=local)

    async def read(self, resolved: ResolvedSource) -> bytes:
        if resolved.data is not None:
            return resolved.data
        assert resolved.local is not None
        return await asyncio.to_thread(self.origin.load, resolved.local)

    def variant_identity(self, options: Options, hints: ClientHints, fingerprint: str) -> str:
        """Everything the response depends on: source, options, and the client facts used."""
        parts = [fingerprint, canonical(options)]
        if options.format == "auto":
            parts.append("accept=" + hints.format_class())
        if options.width == "auto":
            parts.append(f"width={hints.auto_width()}")
        if options.slow_connection_quality is not None:
            parts.append(f"slow={hints.slow_connection()}")
        return "\n".join(parts)

    def _vary(self, options: Options) -> str | None:
        vary = []
        if options.format == "auto":
            vary.append("Accept")
        if options.width == "auto":
            vary += ["Sec-CH-Width", "Width", "Sec-CH-Viewport-Width", "Sec-CH-UA-Mobile"]
        if options.slow_connection_quality is not None:
            vary += ["Save-Data", "ECT", "RTT", "Downlink"]
        return ", ".join(vary) or None

    async def deliver(self, options_text: str, source: str, headers: Mapping[str, str]) -> Delivery:
        """`headers` with lower-case names."""
        if is_loop(headers.get("via"), self.settings.via_marker):
            raise FocalError(
                ErrorKind.LOOP,
                "this request already passed through Focal (Via header): refusing to loop",
            )
        options = parse_options(options_text)
        hints = ClientHints.from_headers(headers)
        async with self.jobs.admit():
            resolved = await self.resolve(source)
            return await self.deliver_resolved(options, hints, resolved, headers)

    async def deliver_resolved(
        self,
        options: Options,
        hints: ClientHints,
        resolved: ResolvedSource,
        headers: Mapping[str, str],
        cache_control: str | None = None,
    ) -> Delivery:
        """A variant of a source already found (callers hold an admission of `self.jobs`)."""
        identity = self.variant_identity(options, hints, resolved.fingerprint)
        common = {"Cache-Control": cache_control or self.settings.cache_control}
        vary = self._vary(options)
        if vary:
            common["Vary"] = vary
        if _etag_matches(headers.get("if-none-match", ""), _etag(identity)):
            return Delivery(304, {**common, "ETag": _etag(identity)})
        data = await self.read(resolved)
        lookup = None
        if options.gravity.mode == "face":
            lookup = await self.locate_faces(data)
            common["Focal-Gravity"] = _describe_gravity(lookup)
            if lookup.faces is None:
                # A centre crop made while the detector was down must not be cached as the
                # answer: the next request should get the faces.
                identity += "\nfaces-unavailable"
                common["Cache-Control"] = "no-store"
        common["ETag"] = _etag(identity)
        try:
            result = await self.jobs.run(transform, data, options, hints, self.limits, lookup)
        except FocalError as error:
            if options.onerror == "redirect" and error.status not in (429, 503):
                return Delivery(
                    302, {"Location": resolved.original_url, "Cf-Resized": f"err={error.code}"}
                )
            raise
        if isinstance(result, Described):
            body = json.dumps(result.body).encode()
            return Delivery(200, {**common, "Content-Type": "application/json"}, body)
        return Delivery(200, {**common, "Content-Type": result.media_type}, result.data)
