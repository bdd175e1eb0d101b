"""The composition root: every long-lived part of a server, built once from the settings.

`build_parts` runs at the app's start-up (server/app.py's lifespan) and `Parts.aclose` at its
end. Each service is handed only the parts it uses, as constructor arguments; nothing else
builds a part, and no service reaches through another's attributes for one. The CLI builds
what it needs (limits, a face detector) with the builders below, so a setting means the same
thing in both.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from focal.catalog import FaceBoxStore, HostedCatalog, UsageStore, catalog_url, open_catalog
from focal.catalog.calls import CallsAppStore
from focal.catalog.times import now_micros
from focal.config import Settings
from focal.faces.detector import FaceDetector, model_for
from focal.faces.remote import RemoteDetector
from focal.faces.workers import DetectorPool, FaceDetectors
from focal.pipeline import Limits
from focal.service.calls_usage import EgressMeter
from focal.service.chain import ChainService
from focal.service.delivery import DeliveryService
from focal.service.early_faces import EarlyFaces
from focal.service.faces import FaceLocator, detector_identity
from focal.service.hosted import HostedImages
from focal.service.jobs import ImageJobs
from focal.service.metering import Clock, HostedQuotas, Meter
from focal.service.process_locks import KeyLocks
from focal.service.result_cache import ResultCache
from focal.service.shared_results import SharedResults, open_shared_results
from focal.service.sources import Sources
from focal.service.transform import limits_from
from focal.service.url_access import UrlAccess
from focal.sources.freshness import FreshSources
from focal.sources.local import LocalOrigin
from focal.sources.remote import RemoteFetcher
from focal.storage import BlobStore, open_blob_store
from focal.stream.service import StreamParts, build_stream
from focal.vips import set_threads

if TYPE_CHECKING:
    from focal.calls.sfu import Sfu

MIB = 1024 * 1024


def detector_model(settings: Settings) -> Path:
    """The model file FOCAL_DETECTOR_MODEL names at FOCAL_DETECT_MAX_SIDE."""
    return model_for(settings.detector_model, settings.detect_max_side)


def detector_pool(settings: Settings, limits: Limits) -> DetectorPool:
    """The server's face detectors: worker processes, started on first use or at start-up."""
    return DetectorPool(
        workers=settings.process_detector_workers,
        task_timeout=settings.detector_timeout,
        max_rss_bytes=settings.detector_max_rss_mib * MIB,
        max_side=settings.detect_max_side,
        intra_op_threads=settings.detector_threads,
        provider=settings.detector_provider,
        model_path=detector_model(settings),
        limits=limits,
    )


def face_detectors(settings: Settings, limits: Limits) -> FaceDetectors:
    """The detector service at FOCAL_DETECTOR_URL when one is set, else local workers."""
    if settings.detector_url:
        return RemoteDetector(settings.detector_url, timeout=settings.detector_timeout)
    return detector_pool(settings, limits)


def face_detector(settings: Settings, limits: Limits) -> FaceDetector:
    """A detector in this process (the CLI's): the pool's detection size and limits.

    The source limits hold for detection too: checked from the header before decoding.
    """
    return FaceDetector(
        max_side=settings.detect_max_side,
        provider=settings.detector_provider,
        model_path=detector_model(settings),
        limits=limits,
    )


def result_cache(settings: Settings) -> ResultCache | None:
    """This server's cache of results on disk; None when FOCAL_RESULT_CACHE_BYTES is 0. The
    server's processes (FOCAL_WORKERS) share its folder and its bound."""
    if settings.result_cache_bytes <= 0:
        return None
    return ResultCache(
        settings.data_dir / "cache", settings.result_cache_bytes, shares=settings.processes
    )


def process_locks(settings: Settings) -> KeyLocks | None:
    """With several server processes: what one of them is making (a variant, an original's
    faces), the others wait for rather than make again."""
    return KeyLocks(settings.data_dir / "making") if settings.processes > 1 else None


def url_access(settings: Settings, clock: Clock = now_micros) -> UrlAccess:
    """Which /cdn-cgi/image/ URLs are served: signed ones, unsigned options, presets."""
    return UrlAccess(settings.url_signing_keys, settings.unsigned_options, settings.presets, clock)


def calls_sfu(settings: Settings, egress: EgressMeter) -> Sfu:
    """The SFU of FOCAL_CALLS_ENABLED (aiortc is imported only then: focal[calls])."""
    from focal.calls.sfu import CallsLimits, Sfu

    limits = CallsLimits(
        ice_addresses=settings.calls_ice_addresses,
        max_tracks_per_request=settings.calls_max_tracks_per_request,
        track_idle_seconds=settings.calls_track_idle_seconds,
        reconnect_seconds=settings.calls_reconnect_seconds,
    )
    return Sfu(limits, egress.add)


@dataclass(frozen=True)
class Parts:
    """What a running server is made of; each part owns its counters (read by /metrics)."""

    settings: Settings
    limits: Limits
    catalog: Engine
    hosted_catalog: HostedCatalog
    jobs: ImageJobs
    origin: LocalOrigin
    fetcher: RemoteFetcher
    sources: Sources
    detectors: FaceDetectors
    faces: FaceLocator
    early_faces: EarlyFaces
    meter: Meter
    results: ResultCache | None
    shared: SharedResults | None
    blobs: BlobStore
    delivery: DeliveryService
    hosted: HostedImages
    chains: ChainService
    stream: StreamParts
    calls_apps: CallsAppStore
    calls_egress: EgressMeter
    calls: Sfu | None  # None unless FOCAL_CALLS_ENABLED

    async def aclose(self) -> None:
        """Close every part, those that others use last."""
        if self.calls is not None:
            await self.calls.aclose()
        await self.delivery.settle()  # writes to the fleet's store under way
        await self.early_faces.aclose()  # before the detectors it uses
        await asyncio.to_thread(self.meter.flush)
        await asyncio.to_thread(self.calls_egress.flush)
        await self.fetcher.aclose()
        await self.detectors.aclose()
        self.jobs.close()
        self.catalog.dispose()
        if self.shared is not None:
            self.shared.close()
        self.blobs.close()


def build_parts(settings: Settings, clock: Clock = now_micros) -> Parts:
    """Every part of a server, each built once. `clock`: what metering's days run on."""
    limits = limits_from(settings)
    set_threads(settings.image_vips_threads)
    jobs = ImageJobs(settings.image_concurrency, settings.process_queue_size)
    making = process_locks(settings)
    catalog = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    origin = LocalOrigin(settings.origin_path, settings.max_source_bytes)
    fetcher = RemoteFetcher(settings)
    sources = Sources(origin, fetcher, FreshSources(), jobs, settings.remote_freshness_seconds)
    detectors = face_detectors(settings, limits)
    faces = FaceLocator(
        detectors,
        FaceBoxStore(
            catalog, detector_identity(settings.detect_max_side, detector_model(settings))
        ),
        settings.face_cache_size,
        making,
    )
    early_faces = EarlyFaces(faces, settings.upload_face_queue)
    meter = Meter(
        UsageStore(catalog),
        settings.transformation_quota,
        clock,
        hosted_quotas=HostedQuotas.from_settings(settings),
    )
    results = result_cache(settings)
    shared = open_shared_results(settings.shared_results_url, settings.data_dir)
    delivery = DeliveryService(
        settings,
        limits=limits,
        jobs=jobs,
        sources=sources,
        faces=faces,
        meter=meter,
        results=results,
        shared=shared,
        access=url_access(settings, clock),
        processes=making,
    )
    hosted_catalog = HostedCatalog(catalog)
    blobs = open_blob_store(settings.storage_url, settings.data_dir)
    calls_apps = CallsAppStore(catalog)
    calls_egress = EgressMeter(calls_apps, clock)
    return Parts(
        settings=settings,
        limits=limits,
        catalog=catalog,
        hosted_catalog=hosted_catalog,
        jobs=jobs,
        origin=origin,
        fetcher=fetcher,
        sources=sources,
        detectors=detectors,
        faces=faces,
        early_faces=early_faces,
        meter=meter,
        results=results,
        shared=shared,
        blobs=blobs,
        delivery=delivery,
        hosted=HostedImages(settings, hosted_catalog, blobs, fetcher, delivery, meter, early_faces),
        chains=ChainService(jobs, limits, meter, faces),
        stream=build_stream(settings, catalog, blobs, meter.note_stream_delivered),
        calls_apps=calls_apps,
        calls_egress=calls_egress,
        calls=calls_sfu(settings, calls_egress) if settings.calls_enabled else None,
    )
