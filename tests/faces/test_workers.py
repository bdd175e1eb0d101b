"""Detection in worker processes: same answers, and a dead or stuck worker costs one request."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from pathlib import Path

import pytest

from conftest import read_photo
from focal.faces import DetectionResult, DetectionUnavailable, DetectorPool, FaceDetector
from stalling import StallOnFirstTask, alive, wait_for


def test_pool_finds_what_the_detector_finds() -> None:
    names = ["multi_face", "camera", "biden", "chelsea"]
    detector = FaceDetector()
    expected = [
        DetectionResult(tuple(f), w, h)
        for f, w, h in map(detector.detect_bytes, map(read_photo, names))
    ]

    async def detect_all(pool: DetectorPool) -> list[DetectionResult]:
        return list(await asyncio.gather(*(pool.detect(read_photo(name)) for name in names)))

    with DetectorPool() as pool:
        found = asyncio.run(detect_all(pool))
        assert pool.tasks_run == len(names)
    assert found == expected
    assert [len(result.faces) for result in found] == [5, 1, 1, 0]


def test_killed_worker_fails_one_request_and_is_replaced(tmp_path: Path) -> None:
    marker = tmp_path / "stalled-pid"
    data = read_photo("single_face")

    async def scenario() -> None:
        pool = DetectorPool(detector_factory=functools.partial(StallOnFirstTask, marker, 60.0))
        async with pool:
            request = asyncio.create_task(pool.detect(data))
            pid = await wait_for(marker)
            assert pool.worker_pids == [pid]
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(DetectionUnavailable) as failure:
                await asyncio.wait_for(request, timeout=30)
            assert f"worker {pid} exited with code -9" in failure.value.reason
            assert not alive(pid)

            result = await asyncio.wait_for(pool.detect(data), timeout=60)
            assert len(result.faces) == 1
            assert pool.worker_pids and pid not in pool.worker_pids

    asyncio.run(scenario())


def test_stuck_worker_is_killed_at_the_timeout_and_replaced(tmp_path: Path) -> None:
    marker = tmp_path / "stalled-pid"
    data = read_photo("single_face")
    factory = functools.partial(StallOnFirstTask, marker, 60.0)

    async def scenario() -> None:
        async with DetectorPool(task_timeout=3.0, detector_factory=factory) as pool:
            with pytest.raises(DetectionUnavailable) as failure:
                await asyncio.wait_for(pool.detect(data), timeout=50)
            assert "longer than 3s" in failure.value.reason
            stuck = int(marker.read_text())
            assert not alive(stuck)

            result = await asyncio.wait_for(pool.detect(data), timeout=60)
            assert len(result.faces) == 1
            assert stuck not in pool.worker_pids

    asyncio.run(scenario())


def test_worker_is_recycled_after_its_task_limit() -> None:
    data = read_photo("grace_hopper")
    with DetectorPool(max_tasks_per_worker=2) as pool:
        (first,) = pool.worker_pids
        pool.detect_sync(data)
        assert pool.worker_pids == [first]
        pool.detect_sync(data)  # its second task: it retires and a fresh one starts
        (second,) = pool.worker_pids
        assert second != first and not alive(first)
        assert len(pool.detect_sync(data).faces) == 1
        assert pool.worker_pids == [second]
        assert pool.tasks_run == 3


def test_worker_is_recycled_when_its_memory_passes_the_cap() -> None:
    data = read_photo("grace_hopper")
    with DetectorPool(max_rss_bytes=1) as pool:
        (first,) = pool.worker_pids
        assert len(pool.detect_sync(data).faces) == 1
        (second,) = pool.worker_pids
        assert second != first and not alive(first)
        assert len(pool.detect_sync(data).faces) == 1
        (third,) = pool.worker_pids
        assert third not in (first, second) and not alive(second)


def test_undecodable_input_fails_the_request_but_keeps_the_worker() -> None:
    with DetectorPool() as pool:
        with pytest.raises(DetectionUnavailable) as failure:
            pool.detect_sync(b"not an image")
        assert failure.value.reason.startswith("face detection failed:")
        (pid,) = pool.worker_pids
        assert len(pool.detect_sync(read_photo("astronaut")).faces) == 1
        assert pool.worker_pids == [pid]


def test_closed_pool_refuses_work_and_leaves_no_process() -> None:
    pool = DetectorPool()
    pool.detect_sync(read_photo("astronaut"))
    (pid,) = pool.worker_pids
    pool.close()
    assert not alive(pid)
    with pytest.raises(DetectionUnavailable):
        pool.detect_sync(read_photo("astronaut"))
    with pytest.raises(DetectionUnavailable):
        asyncio.run(pool.detect(read_photo("astronaut")))


def test_closing_fails_calls_in_flight_and_waiting(tmp_path: Path) -> None:
    marker = tmp_path / "stalled-pid"
    data = read_photo("astronaut")

    async def scenario() -> None:
        pool = DetectorPool(detector_factory=functools.partial(StallOnFirstTask, marker, 60.0))
        in_flight = asyncio.create_task(pool.detect(data))
        waiting = asyncio.create_task(pool.detect(data))
        pid = await wait_for(marker)
        await pool.aclose()
        for call in (in_flight, waiting):
            with pytest.raises(DetectionUnavailable):
                await asyncio.wait_for(call, timeout=30)
        assert not alive(pid)
        assert pool.worker_pids == []

    asyncio.run(scenario())


def _unloadable_detector() -> FaceDetector:
    raise RuntimeError("no model here")


def test_the_pools_state_says_warm_cold_or_why_it_is_unavailable() -> None:
    pool = DetectorPool()
    try:
        assert pool.state == "cold" and pool.start_failure is None
        pool.start(wait_ready=True)
        assert pool.state == "warm" and pool.start_failure is None
    finally:
        pool.close()
    assert pool.state == "unavailable"
    assert pool.start_failure == "the face detector pool is closed"
    broken = DetectorPool(detector_factory=_unloadable_detector)
    try:
        broken.start(wait_ready=True)
        assert broken.state == "unavailable"
        assert "RuntimeError: no model here" in (broken.start_failure or "")
    finally:
        broken.close()
