"""asyncio.run in a thread of its own: the page tests' Playwright keeps an event loop running
in the main thread for the rest of the session, where asyncio.run would refuse to start."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any


def run_in_thread(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as error:  # handed to the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the scenario did not finish"
    if failures:
        raise failures[0]
