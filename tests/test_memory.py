"""Malloc arenas per process: the server's and a worker's own count, MALLOC_ARENA_MAX first."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from focal import memory


class RecordingLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


def test_each_process_kind_gets_its_arenas_unless_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libc = RecordingLibc()
    fake: Any = lambda: libc  # noqa: E731
    monkeypatch.setattr(memory, "_libc", fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    memory.limit_malloc_arenas(memory.SERVER_ARENAS)
    memory.limit_malloc_arenas(memory.WORKER_ARENAS)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    memory.limit_malloc_arenas(memory.SERVER_ARENAS)
    assert [value for _, value in libc.calls] == [1, 2, 4]


def test_threads_carry_their_names_into_the_system() -> None:
    seen: list[str] = []

    def run() -> None:
        memory.name_os_thread()
        with open(f"/proc/self/task/{threading.get_native_id()}/comm") as comm:
            seen.append(comm.read().strip())

    thread = threading.Thread(target=run, name="focal-image_7")
    thread.start()
    thread.join()
    assert seen == ["focal-image_7"]
