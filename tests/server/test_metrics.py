"""`GET /metrics`: Prometheus' format, with requests, latencies and the cache's counters."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from conftest import RunningServer, read_photo


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_and_cache_use(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(detector_warm_start=False)
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    with server.client() as client:
        for _ in range(3):
            assert client.get(server.image_url("w=100", "cat.png")).status_code == 200
        assert client.get(server.image_url("w=abc", "cat.png")).status_code == 400
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    route = "/cdn-cgi/image/{options}/{source:path}"
    ok = (("method", "GET"), ("route", route), ("status", "200"))
    bad = (("method", "GET"), ("route", route), ("status", "400"))
    assert samples[("focal_requests_total", ok)] == 3
    assert samples[("focal_requests_total", bad)] == 1
    latency = (("method", "GET"), ("route", route))
    assert samples[("focal_request_seconds_count", latency)] == 4
    assert samples[("focal_transformations_total", ())] == 1
    assert samples[("focal_unique_transformations_total", ())] == 1
    assert samples[("focal_quota_refusals_total", ())] == 0
    assert samples[("focal_coalesced_requests_total", ())] == 0
    assert samples[("focal_result_cache_misses_total", ())] == 1
    assert samples[("focal_result_cache_hits_total", ())] == 2
    assert samples[("focal_result_cache_bytes", ())] > 0
