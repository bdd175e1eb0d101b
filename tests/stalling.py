"""A face detector that stalls on purpose, for tests of dead and stuck detector workers."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from focal.faces import Face, FaceDetector


class StallOnFirstTask:
    """The real detector, except that the first task of a test stalls.

    The first worker to get a task writes its pid to `marker` and then sleeps, so a test can
    kill it mid-task or let it time out; workers started after that detect normally.
    Built inside the worker process (it must be importable there, hence module level).
    """

    def __init__(self, marker: Path, stall: float) -> None:
        self.marker = marker
        self.stall = stall
        self.detector = FaceDetector()

    def detect_bytes(self, data: bytes) -> tuple[list[Face], int, int]:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            time.sleep(self.stall)
        return self.detector.detect_bytes(data)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_for(marker: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline, "the worker never started the task"
        await asyncio.sleep(0.05)
    return int(marker.read_text())
