"""The request context: a safe request id, facts noted anywhere in a request's work."""

from __future__ import annotations

import asyncio
import re

import pytest

from focal.request_context import (
    MAX_REQUEST_ID_LENGTH,
    current,
    current_request_id,
    handling,
    note,
    request_id_from,
)

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "incoming", ["abc", "0b5e-4c1d_9f.a:1", "A" * MAX_REQUEST_ID_LENGTH, "5f0c3a9e" * 4]
)
def test_a_safe_incoming_id_is_kept(incoming: str) -> None:
    assert request_id_from(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "A" * (MAX_REQUEST_ID_LENGTH + 1),
        "has space",
        "new\nline",
        'quote"d',
        "<script>",
        "semi;colon",
        "é",
    ],
)
def test_an_unsafe_or_missing_id_is_replaced_by_a_new_one(incoming: str | None) -> None:
    made = request_id_from(incoming)
    assert NEW_ID.fullmatch(made)
    assert made != request_id_from(incoming)  # new each time


def test_facts_are_noted_on_the_current_request_only() -> None:
    note(cache="hit")  # outside any request: nothing happens, nothing fails
    assert current() is None and current_request_id() is None
    with handling("one") as context:
        note(cache="miss", options="width=10")
        note(cache="hit", gravity=None)  # later facts win; None is not a fact
        assert current_request_id() == "one"
    assert context.facts == {"cache": "hit", "options": "width=10"}
    assert current() is None


def test_facts_noted_in_tasks_and_threads_reach_their_own_request() -> None:
    async def request(request_id: str) -> dict[str, object]:
        with handling(request_id) as context:
            await asyncio.sleep(0)  # the two requests interleave
            await asyncio.to_thread(note, thread=current_request_id() or "")
            await asyncio.ensure_future(_note_in_task())
            return dict(context.facts)

    async def _note_in_task() -> None:
        note(task=current_request_id() or "")

    async def both() -> list[dict[str, object]]:
        return list(await asyncio.gather(request("a"), request("b")))

    first, second = asyncio.run(both())
    assert first == {"thread": "a", "task": "a"}
    assert second == {"thread": "b", "task": "b"}
