"""Locks shared by server processes: one holder per key, released however the holder ends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

from focal.service.process_locks import KeyLocks, lock_file


def test_holders_take_turns(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        # Two KeyLocks on one folder are as two processes' (flock locks are per open file).
        first, second = KeyLocks(tmp_path), KeyLocks(tmp_path)
        events: list[str] = []
        holding = asyncio.Event()

        async def hold_first() -> None:
            async with first.hold("variant-abc") as waited:
                events.append(f"first waited={waited}")
                holding.set()
                await asyncio.sleep(0.1)
                events.append("first done")

        async def hold_second() -> None:
            await holding.wait()
            async with second.hold("variant-abc") as waited:
                events.append(f"second waited={waited}")
            async with second.hold("variant-other") as waited:
                events.append(f"other key waited={waited}")

        await asyncio.gather(hold_first(), hold_second())
        return events

    assert asyncio.run(scenario()) == [
        "first waited=False",
        "first done",
        "second waited=True",
        "other key waited=False",
    ]
    assert list(tmp_path.iterdir()) == []  # released keys leave no file


def test_a_key_held_by_a_process_that_is_killed_is_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                from pathlib import Path
                from focal.service.process_locks import lock_file
                handle = lock_file(Path({str(tmp_path / "variant-k.lock")!r}))
                print("held" if handle is not None else "refused", flush=True)
                time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert lock_file(tmp_path / "variant-k.lock") is None  # held by the other process
    finally:
        holder.kill()
        holder.wait()

    async def take() -> bool:
        async with KeyLocks(tmp_path).hold("variant-k") as waited:
            return waited

    assert asyncio.run(asyncio.wait_for(take(), 5)) is False
