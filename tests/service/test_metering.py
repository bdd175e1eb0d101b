"""The meter over a real catalog: the memo, deliveries kept until written, the quota error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from focal.catalog import UsageStore, open_catalog
from focal.catalog.times import from_micros
from focal.catalog.usage import DAY_MICROS, WINDOW_MICROS
from focal.errors import ErrorKind, FocalError
from focal.service.metering import Meter, transformation_key

NOW = 1_780_000_000 * 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def usage(tmp_path: Path) -> UsageStore:
    return UsageStore(open_catalog(f"sqlite:///{tmp_path / 'focal.db'}"))


def test_a_key_is_source_and_canonical_options() -> None:
    assert transformation_key("origin:a.jpg", "width=300") == transformation_key(
        "origin:a.jpg", "width=300"
    )
    assert transformation_key("origin:a.jpg", "width=300") != transformation_key(
        "origin:b.jpg", "width=300"
    )


def test_repeats_within_the_window_do_not_reach_the_catalog(
    usage: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    meter = Meter(usage, clock=clock)
    asyncio.run(meter.count("k"))
    assert meter.counted == 1

    def unreachable(*_: object) -> int:
        raise AssertionError("the catalog was asked again")

    monkeypatch.setattr(usage, "count_transformation", unreachable)
    for _ in range(3):
        asyncio.run(meter.count("k"))
    monkeypatch.undo()
    clock.now += WINDOW_MICROS  # the window has run out: counted again
    asyncio.run(meter.count("k"))
    assert meter.counted == 2
    assert usage.in_window(clock.now) == 1


def test_past_the_quota_the_error_says_when_room_comes_back(usage: UsageStore) -> None:
    clock = Clock()
    meter = Meter(usage, quota=1, clock=clock)
    asyncio.run(meter.count("first"))
    clock.now += DAY_MICROS
    with pytest.raises(FocalError) as refused:
        asyncio.run(meter.check("second"))
    assert refused.value.kind is ErrorKind.QUOTA_EXCEEDED
    assert refused.value.status == 429
    frees = from_micros(NOW + WINDOW_MICROS).strftime("%Y-%m-%d %H:%M UTC")
    assert frees in refused.value.message  # when the first count runs out
    asyncio.run(meter.check("first"))  # counted already: not refused
    asyncio.run(meter.count("second", enforce_quota=False))  # a cached result is served
    assert meter.refused == 1


def test_deliveries_wait_in_memory_until_the_catalog_takes_them(
    usage: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    meter = Meter(usage, clock=clock)
    for _ in range(3):
        meter.note_delivery()

    def down(*_: object) -> None:
        raise OSError("the catalog is away")

    monkeypatch.setattr(usage, "add", down)
    with pytest.raises(OSError):
        meter.flush()
    monkeypatch.undo()
    meter.note_delivery()
    meter.flush()
    meter.flush()  # nothing left: adds nothing
    today = from_micros(clock.now).date()
    assert usage.daily(today, today)[0].deliveries == 4
