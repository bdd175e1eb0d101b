"""Image work at once across the server's processes: one count for all of them.

The processes take connections from one shared socket, so at any moment one may hold more
requests than another. With a count of its own, each would queue its surplus while another's
threads idle, and the slowest answers would wait behind the longer queue. One count, taken in
the order asked, makes the server one queue again, as one process would be, without one
interpreter lock for all the image threads.

A System V semaphore (sysv_ipc): its waiters are served first come, first served, and the
kernel gives back what a process held when that process ends, even killed (SEM_UNDO).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

import sysv_ipc

R = TypeVar("R")

log = logging.getLogger(__name__)


class ProcessTurns:
    def __init__(self, semaphore: sysv_ipc.Semaphore, turns: int) -> None:
        semaphore.undo = True  # a process that ends gives back every turn it held
        self._semaphore = semaphore
        self.turns = turns

    @classmethod
    def create(cls, turns: int) -> ProcessTurns | None:
        """A new count of `turns`, before the processes start; None where the system has no
        System V semaphores (the processes then count alone)."""
        try:
            semaphore = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX, 0o600, turns)
        except (sysv_ipc.Error, OSError) as error:
            log.warning("image work is counted per process: no shared semaphore (%s)", error)
            return None
        return cls(semaphore, turns)

    @classmethod
    def join(cls, key: int, turns: int) -> ProcessTurns:
        """The count `create` made, from one of the processes."""
        return cls(sysv_ipc.Semaphore(key), turns)

    @property
    def key(self) -> int:
        return int(self._semaphore.key)

    @property
    def free(self) -> int:
        return int(self._semaphore.value)

    def run(self, work: Callable[[], R]) -> R:
        """`work()` in a turn, waiting for one first (blocking: call it from a thread)."""
        self._semaphore.acquire()
        try:
            return work()
        finally:
            self._semaphore.release()

    def remove(self) -> None:
        """Once the processes are gone."""
        with contextlib.suppress(sysv_ipc.ExistentialError):  # removed already
            self._semaphore.remove()
