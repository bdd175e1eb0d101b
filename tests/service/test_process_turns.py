"""One count of image work for several server processes: shared, first come first served,
and given back by a process however it ends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
import sysv_ipc

from focal.service.jobs import ImageJobs
from focal.service.process_turns import ProcessTurns


@pytest.fixture
def turns() -> Iterator[ProcessTurns]:
    made = ProcessTurns.create(2)
    assert made is not None
    yield made
    made.remove()


def _holder(key: int, seconds: float) -> subprocess.Popen[str]:
    """Another process taking one turn and holding it for `seconds`."""
    script = textwrap.dedent(f"""
        import time
        from focal.service.process_turns import ProcessTurns
        turns = ProcessTurns.join({key}, 2)
        turns.run(lambda: (print("holding", flush=True), time.sleep({seconds})))
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    return holder


def test_a_turn_taken_in_another_process_counts_here(turns: ProcessTurns) -> None:
    holder = _holder(turns.key, 60)
    try:
        assert turns.free == 1
        assert turns.run(lambda: turns.free) == 0  # the last turn, taken here
        assert turns.free == 1
    finally:
        holder.kill()
        holder.wait()


def test_a_process_killed_holding_a_turn_gives_it_back(turns: ProcessTurns) -> None:
    holder = _holder(turns.key, 60)
    holder.kill()
    holder.wait()
    assert turns.free == 2


def test_waiters_are_served_in_the_order_they_came(turns: ProcessTurns) -> None:
    holders = [_holder(turns.key, 60), _holder(turns.key, 60)]  # no turn left
    served: list[int] = []

    def wait_turn(index: int) -> None:
        turns.run(lambda: served.append(index))

    waiting = []
    for index in range(4):
        waiting.append(threading.Thread(target=wait_turn, args=(index,)))
        waiting[-1].start()
        time.sleep(0.05)  # queued one after the other
    for holder in holders:
        holder.kill()
        holder.wait()
    for thread in waiting:
        thread.join(10)
    assert served == [0, 1, 2, 3]


def test_jobs_with_turns_have_a_thread_for_each_and_wait_for_one(turns: ProcessTurns) -> None:
    """This process's share is one job, but it may run both turns when the other is idle; with
    one turn held elsewhere, its second job waits for it."""
    jobs = ImageJobs(1, 4, turns)

    async def two_jobs() -> float:
        started = time.monotonic()
        await asyncio.gather(jobs.run(time.sleep, 0.3), jobs.run(time.sleep, 0.3))
        return time.monotonic() - started

    try:
        assert asyncio.run(two_jobs()) < 0.55  # both at once: two turns free
        holder = _holder(turns.key, 0.5)
        assert asyncio.run(two_jobs()) >= 0.55  # one turn: one after the other
        holder.wait()
    finally:
        jobs.close()


def test_without_system_v_semaphores_each_process_counts_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(*args: object) -> None:
        raise sysv_ipc.PermissionsError("Permission denied")

    monkeypatch.setattr(sysv_ipc, "Semaphore", refused)
    assert ProcessTurns.create(4) is None
    assert "counted per process" in caplog.text
