"""`GET /metrics` in Prometheus' text format: requests, latency, cache and image work.

Request counts and latencies are recorded by a small ASGI middleware; the cache and work
counters are read from the parts that own them when Prometheus scrapes, so they cost nothing
per request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from focal.service.parts import Parts

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceCollector(Collector):
    """The counters of the server's parts, each read from the part that owns it at scrape time."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        parts = self.parts
        yield CounterMetricFamily(
            "focal_transformations",
            "Images transformed (cache misses)",
            parts.delivery.transformations,
        )
        yield CounterMetricFamily(
            "focal_coalesced_requests",
            "Requests that waited for another's transformation of their variant",
            parts.delivery.coalesced,
        )
        yield CounterMetricFamily(
            "focal_unique_transformations",
            "Unique transformations this process counted (once per 30 days each)",
            parts.meter.counted,
        )
        yield CounterMetricFamily(
            "focal_quota_refusals", "Transformations refused past the quota", parts.meter.refused
        )
        yield CounterMetricFamily(
            "focal_face_detections", "Face detections run", parts.detectors.tasks_run
        )
        early = parts.early_faces
        yield CounterMetricFamily(
            "focal_upload_faces_queued", "Uploads queued for face detection", early.queued
        )
        yield CounterMetricFamily(
            "focal_upload_faces_dropped",
            "Uploads not queued for face detection: the queue was full",
            early.dropped,
        )
        yield GaugeMetricFamily(
            "focal_upload_faces_waiting", "Uploads waiting for face detection", early.waiting
        )
        yield GaugeMetricFamily(
            "focal_image_requests_admitted",
            "Requests holding an original in memory or image work (or waiting for it)",
            parts.jobs.admitted,
        )
        cache = parts.results
        if cache is not None:
            yield CounterMetricFamily("focal_result_cache_hits", "Result cache hits", cache.hits)
            yield CounterMetricFamily(
                "focal_result_cache_misses", "Result cache misses", cache.misses
            )
            yield CounterMetricFamily(
                "focal_result_cache_evictions",
                "Results evicted to stay in bound",
                cache.evictions,
            )
            yield GaugeMetricFamily(
                "focal_result_cache_bytes", "Bytes of results on disk", cache.bytes
            )
        shared = parts.shared
        if shared is not None:
            yield CounterMetricFamily(
                "focal_shared_results_hits", "Results found in the fleet's store", shared.hits
            )
            yield CounterMetricFamily(
                "focal_shared_results_misses", "Results not in the fleet's store", shared.misses
            )
            yield CounterMetricFamily(
                "focal_shared_results_errors", "Failed calls to the fleet's store", shared.errors
            )


class RequestMetrics:
    """ASGI middleware counting requests by route, method and status, with latencies."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "focal_requests", "HTTP requests", ["route", "method", "status"], registry=registry
        )
        self.latency = Histogram(
            "focal_request_seconds",
            "Time to answer an HTTP request",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The route's pattern, not the path: one series per endpoint, not per image.
            route: Any = scope.get("route")
            name = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.requests.labels(name, method, str(status)).inc()
            self.latency.labels(name, method).observe(time.perf_counter() - started)
