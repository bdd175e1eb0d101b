"""Request coalescing on its own: one piece of work per key, shared by concurrent callers."""

from __future__ import annotations

import asyncio

import pytest

from focal.service.single_flight import SingleFlight


def test_concurrent_callers_of_one_key_share_one_run_and_other_keys_run_apart() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    runs: list[str] = []

    async def work(key: str, gate: asyncio.Event) -> str:
        runs.append(key)
        await gate.wait()
        return key.upper()

    async def burst() -> list[str]:
        gate = asyncio.Event()
        calls = [flight.run(key, lambda k=key: work(k, gate)) for key in ["a"] * 5 + ["b"] * 2]
        tasks = [asyncio.ensure_future(call) for call in calls]
        await asyncio.sleep(0)
        assert len(flight) == 2  # one flight per key in the air
        assert "a" in flight and "b" in flight and "c" not in flight
        gate.set()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(burst()) == ["A"] * 5 + ["B"] * 2
    assert sorted(runs) == ["a", "b"]
    assert flight.joined == 5 and len(flight) == 0


def test_every_caller_gets_the_error_and_the_next_call_runs_again() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    attempts = 0

    async def failing() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        raise ValueError("origin down")

    async def twice_concurrently() -> list[BaseException | int]:
        return list(
            await asyncio.gather(
                flight.run("k", failing), flight.run("k", failing), return_exceptions=True
            )
        )

    results = asyncio.run(twice_concurrently())
    assert [str(result) for result in results] == ["origin down", "origin down"]
    assert attempts == 1
    with pytest.raises(ValueError, match="origin down"):
        asyncio.run(flight.run("k", failing))  # landed: a later call starts a new flight
    assert attempts == 2


def test_a_caller_that_hangs_up_does_not_cancel_the_shared_work() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    finished: list[str] = []

    async def work(gate: asyncio.Event) -> str:
        await gate.wait()
        finished.append("made")
        return "made"

    async def first_hangs_up() -> str:
        gate = asyncio.Event()
        first = asyncio.ensure_future(flight.run("k", lambda: work(gate)))
        second = asyncio.ensure_future(flight.run("k", lambda: work(gate)))
        await asyncio.sleep(0)
        first.cancel()  # the client that started the work goes away
        await asyncio.sleep(0)
        gate.set()
        assert first.cancelled()
        return await second

    assert asyncio.run(first_hangs_up()) == "made"
    assert finished == ["made"]


def test_the_work_goes_on_when_every_caller_hangs_up() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    finished = asyncio.Event()

    async def work() -> str:
        await asyncio.sleep(0)
        finished.set()
        return "kept"

    async def all_hang_up() -> None:
        caller = asyncio.ensure_future(flight.run("k", work))
        await asyncio.sleep(0)
        caller.cancel()
        await finished.wait()  # the work completes, so its result can still be kept

    asyncio.run(all_hang_up())
    assert finished.is_set()
