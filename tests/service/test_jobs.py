"""Image jobs: work on the image threads runs in its request's context."""

from __future__ import annotations

import asyncio

from focal.request_context import current_request_id, handling, note
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
