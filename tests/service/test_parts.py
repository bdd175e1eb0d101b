"""The composition root: each part built once, from the settings, and shared by the services."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from conftest import server_settings
from focal.catalog import UsageStore, catalog_url, open_catalog
from focal.catalog.times import from_micros, now_micros
from focal.service.parts import build_parts, detector_pool, face_detector
from focal.service.transform import limits_from


def test_every_service_is_handed_the_one_instance_of_each_part(tmp_path: Path) -> None:
    parts = build_parts(server_settings(tmp_path, detector_warm_start=False))
    try:
        delivery, hosted, chains = parts.delivery, parts.hosted, parts.chains
        assert delivery.jobs is parts.jobs and chains.jobs is parts.jobs
        assert delivery.meter is parts.meter and hosted.meter is parts.meter
        assert chains.meter is parts.meter
        assert delivery.faces is parts.faces and chains.faces is parts.faces
        assert parts.faces.pool is parts.detectors
        assert delivery.sources is parts.sources
        assert parts.sources.origin is parts.origin
        assert parts.sources.fetcher is parts.fetcher and hosted.fetcher is parts.fetcher
        assert delivery.results is parts.results and delivery.shared is parts.shared
        assert hosted.catalog is parts.hosted_catalog and hosted.blobs is parts.blobs
        assert hosted.delivery is delivery
        assert delivery.limits is parts.limits and chains.limits is parts.limits
    finally:
        asyncio.run(parts.aclose())


def test_limits_come_from_one_builder_hosted_uploads_with_their_own_size(
    tmp_path: Path,
) -> None:
    settings = server_settings(
        tmp_path,
        max_pixels=2_000_000,
        max_side=3_000,
        transform_timeout=7.5,
        max_output_pixels=1_000_000,
        hosted_max_bytes=123_456,
    )
    parts = build_parts(settings)
    try:
        assert parts.limits == limits_from(settings)
        # Everything as the server's, but the size of an original.
        assert parts.hosted.limits == dataclasses.replace(parts.limits, max_bytes=123_456)
        assert parts.hosted.max_upload_bytes == 123_456
    finally:
        asyncio.run(parts.aclose())


def test_the_detector_builders_read_the_same_settings(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, detect_max_side=512, max_pixels=3_000_000)
    limits = limits_from(settings)
    in_process = face_detector(settings, limits)
    assert in_process.max_side == 512 and in_process.limits == limits
    with detector_pool(settings, limits) as pool:
        assert pool.task_timeout == settings.detector_timeout
        assert pool.max_rss_bytes == settings.detector_max_rss_mib * 1024 * 1024
        made = pool._make_detector.keywords  # type: ignore[attr-defined]
        assert made["max_side"] == 512 and made["limits"] == limits


def test_closing_the_parts_writes_the_deliveries_noted_so_far(tmp_path: Path) -> None:
    settings = server_settings(tmp_path)
    parts = build_parts(settings)
    parts.meter.note_delivery()
    parts.meter.note_delivery()
    asyncio.run(parts.aclose())
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        today = from_micros(now_micros()).date()
        (day,) = UsageStore(engine).daily(today, today)
        assert day.deliveries == 2
    finally:
        engine.dispose()
