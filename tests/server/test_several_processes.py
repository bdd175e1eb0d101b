"""`focal serve` on two cores, in real processes: by default one process per core, with one
result cache, one coalescing and one `/metrics` for both.

Requests go on new connections, so the kernel hands them to either process; whichever answers
a scrape reports both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, read_photo

ROUTE = "/cdn-cgi/image/{options}/{source:path}"
REQUESTS = 24
BURST = 12


@dataclass
class Processes:
    url: str
    data: Path


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[Processes]:
    port = free_port()
    origin = tmp_path / "origin"
    origin.mkdir()
    (origin / "cat.png").write_bytes(read_photo("chelsea"))
    (origin / "astronaut.png").write_bytes(read_photo("astronaut"))
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FOCAL_")}
    environment.update(
        FOCAL_DATA_DIR=str(tmp_path),
        FOCAL_ORIGIN_DIR=str(origin),
        FOCAL_LOG_LEVEL="warning",
        FOCAL_DETECTOR_WARM_START="false",
    )
    focal = Path(sys.executable).with_name("focal")
    serve = [str(focal), "serve", "--port", str(port)]
    cores = sorted(os.sched_getaffinity(0))[:2]
    if len(cores) < 2:  # a one-core machine: ask for two processes
        serve += ["--workers", "2"]
    # On two cores (its CPU affinity), as a container's CPU set gives them: two processes.
    pinned = f"import os; os.sched_setaffinity(0, {cores}); os.execv({serve[0]!r}, {serve!r})"
    process = subprocess.Popen(
        [sys.executable, "-c", pinned],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its processes go with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while len(list((tmp_path / "metrics").glob("*.json"))) < 2:  # both started
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the two processes did not start"
            threading.Event().wait(0.2)
        yield Processes(url, tmp_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
        if process.stderr is not None:
            process.stderr.close()


def _get(url: str) -> httpx.Response:
    with httpx.Client(timeout=30) as client:  # a new connection each time
        return client.get(url)


def _totals(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = _get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


SERVED = ("focal_requests_total", (("method", "GET"), ("route", ROUTE), ("status", "200")))


def _settled(url: str, served: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The totals once both processes' counts include the `served` deliveries."""
    deadline = time.monotonic() + 60  # the other process writes its counts every 2 s
    while True:
        totals = _totals(url)
        if totals.get(SERVED) == served or time.monotonic() > deadline:
            return totals
        threading.Event().wait(0.5)


def test_both_processes_share_the_cache_and_report_together(two_processes: Processes) -> None:
    url = two_processes.url
    for _ in range(REQUESTS):
        assert _get(f"{url}/cdn-cgi/image/w=100/cat.png").status_code == 200
    totals = _settled(url, REQUESTS)
    assert totals[SERVED] == REQUESTS
    # Made once: the process that did not make it found it in the other's share.
    assert totals[("focal_transformations_total", ())] == 1
    assert totals[("focal_result_cache_hits_total", ())] == REQUESTS - 1
    assert totals[("focal_result_cache_misses_total", ())] == 1
    shares = sorted(path.name for path in (two_processes.data / "cache").glob("share-?"))
    assert shares == ["share-0", "share-1"]
    assert len(list((two_processes.data / "metrics").glob("*.json"))) == 2


def test_a_burst_for_a_new_variant_is_made_once_by_all_processes(
    two_processes: Processes,
) -> None:
    """Each process coalesces its own requests; across processes, one makes the variant and
    the other waits for it and serves it from the cache."""
    url = two_processes.url
    # Slow enough (a large AVIF) that the burst reaches both processes while it is made.
    variant = f"{url}/cdn-cgi/image/w=1024,blur=20,f=avif,q=90/astronaut.png"
    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(lambda _: _get(variant), range(BURST)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    totals = _settled(url, BURST)
    assert totals[SERVED] == BURST
    assert totals[("focal_transformations_total", ())] == 1
    waited = totals[("focal_coalesced_requests_total", ())]
    hits = totals[("focal_result_cache_hits_total", ())]
    assert waited + hits == BURST - 1
    assert list((two_processes.data / "making").iterdir()) == []  # no key left held


def test_a_process_that_ended_leaves_the_sum(tmp_path: Path) -> None:
    from prometheus_client import CollectorRegistry, Counter, generate_latest

    from focal.server.process_metrics import ProcessMetrics, summed_registry

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    registries = [CollectorRegistry(), CollectorRegistry()]
    for registry, count in zip(registries, (3, 4), strict=True):
        Counter("focal_things", "Things", ["kind"], registry=registry).labels("a").inc(count)
    ProcessMetrics(tmp_path, registries[1], pid=ended.pid).write()
    this = ProcessMetrics(tmp_path, registries[0])
    text = generate_latest(summed_registry(this)).decode()
    assert 'focal_things_total{kind="a"} 3.0' in text  # not 7: the other has ended
    assert "_created" not in text
    assert [path.name for path in tmp_path.glob("*.json")] == [f"{os.getpid()}.json"]
