"""Image jobs: work on the image threads runs in its request's context."""

from __future__ import annotations

import asyncio
import time

import pytest

from focal.request_context import current_request_id, handling, note
from focal.service import jobs as jobs_module
from focal.service.jobs import ImageJobs


def _in_thread(value: int) -> tuple[str | None, int]:
    note(worked=value)
    return current_request_id(), value * 2


def test_work_on_an_image_thread_sees_its_requests_id_and_notes_on_it() -> None:
    jobs = ImageJobs(workers=2, queue_size=0)

    async def request(request_id: str) -> tuple[tuple[str | None, int], dict[str, object]]:
        with handling(request_id) as context:
            async with jobs.admit():
                result = await jobs.run(_in_thread, len(request_id))
            return result, dict(context.facts)

    async def both() -> list[tuple[tuple[str | None, int], dict[str, object]]]:
        return list(await asyncio.gather(request("a"), request("bb")))

    try:
        assert asyncio.run(both()) == [(("a", 2), {"worked": 1}), (("bb", 4), {"worked": 2})]
    finally:
        jobs.close()


def test_only_as_many_originals_are_worked_on_as_there_are_image_threads() -> None:
    """Admitted requests beyond the threads wait before reading their original: the bytes in
    memory are bounded by the threads, not by the queue."""
    jobs = ImageJobs(workers=2, queue_size=10)
    inside = most = 0

    async def request() -> None:
        nonlocal inside, most
        async with jobs.admit(), jobs.working():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    async def burst() -> None:
        await asyncio.gather(*(request() for _ in range(6)))

    try:
        asyncio.run(burst())
    finally:
        jobs.close()
    assert most == 2


def test_free_memory_is_handed_back_once_the_process_has_been_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not at every moment no image is in work (under load that is many times a second, and
    each trim makes the next images fault their buffers in again): after a quiet spell."""
    trims: list[float] = []
    monkeypatch.setattr(jobs_module, "QUIET_BEFORE_TRIM", 0.3)
    monkeypatch.setattr(jobs_module, "release_free_memory", lambda: trims.append(time.monotonic()))
    jobs = ImageJobs(workers=1, queue_size=0)

    async def bursts() -> float:
        ended = 0.0
        for _ in range(5):  # idle for a moment between each, never for 0.3 s
            async with jobs.admit():
                await asyncio.sleep(0.05)
            ended = time.monotonic()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        return ended

    try:
        ended = asyncio.run(bursts())
    finally:
        jobs.close()
    assert len(trims) == 1
    assert trims[0] - ended >= 0.29
