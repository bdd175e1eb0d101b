"""Locks shared by the server's processes (`focal serve` with several): files, `flock`ed.

The system releases a process's locks when it ends, however it ends, so a crashed process
never leaves a key locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

FIRST_POLL = 0.002  # seconds; doubled up to LAST_POLL while another process holds a key
LAST_POLL = 0.05


def lock_file(path: Path) -> int | None:
    """An exclusive lock on `path`, held while the returned descriptor stays open; None when
    another process (or another descriptor of this one) holds it."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    return handle


def _is_current(handle: int, path: Path) -> bool:
    """Whether the file locked is still the one at `path` (its holder removes it on release:
    a lock taken on the removed file locks nothing)."""
    try:
        return os.stat(path).st_ino == os.fstat(handle).st_ino
    except FileNotFoundError:
        return False


class KeyLocks:
    """One holder per key at a time across processes: `<folder>/<key>.lock`, removed when
    released so the folder holds only the keys being worked on. Used from one event loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Hold `key`, waiting while another process does; yields whether it waited (then
        that process's work is done, and its result may be found where it keeps them)."""
        path = self.folder / f"{key}.lock"
        waited = False
        poll = FIRST_POLL
        while True:
            # Non-blocking, polled from the loop: a blocking lock would hold a thread for as
            # long as another process works.
            handle = lock_file(path)
            if handle is not None:
                if _is_current(handle, path):
                    break
                os.close(handle)
                continue
            waited = True
            await asyncio.sleep(poll)
            poll = min(2 * poll, LAST_POLL)
        try:
            yield waited
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # before unlocking: a waiter then finds a new file, or none
            os.close(handle)
