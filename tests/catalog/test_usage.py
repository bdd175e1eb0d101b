"""Usage in the catalog on every backend: windows, the quota, daily counters, stored images."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from focal.catalog import HostedCatalog, ImageRecord, Metric, QuotaReached, UsageStore
from focal.catalog.times import to_micros
from focal.catalog.usage import DAY_MICROS, WINDOW_MICROS, day_number

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
NOW = to_micros(T0)
DAY = T0.date()


@pytest.fixture
def usage(engine: Engine) -> UsageStore:
    return UsageStore(engine)


def transformations(usage: UsageStore, first: int, days: int) -> list[int]:
    start = T0.date() + timedelta(days=first)
    report = usage.daily(start, start + timedelta(days=days - 1))
    return [day.transformations for day in report]


def test_a_key_counts_once_per_30_day_window(usage: UsageStore) -> None:
    assert usage.count_transformation("a", NOW) == NOW
    assert usage.count_transformation("a", NOW + DAY_MICROS) == NOW  # still in its window
    assert usage.count_transformation("a", NOW + WINDOW_MICROS - 1) == NOW
    later = NOW + 31 * DAY_MICROS
    assert usage.count_transformation("a", later) == later  # a new window: counted again
    assert transformations(usage, 0, 1) == [1]
    assert transformations(usage, 31, 1) == [1]
    assert sum(transformations(usage, 0, 40)) == 2
    assert usage.in_window(later) == 1


def test_concurrent_counts_of_the_same_keys_are_exact(usage: UsageStore) -> None:
    keys = [f"key-{n}" for n in range(10)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: usage.count_transformation(keys[n % 10], NOW), range(200)))
    assert usage.in_window(NOW) == 10
    assert transformations(usage, 0, 1) == [10]


def test_past_the_quota_only_known_keys_pass(usage: UsageStore) -> None:
    for n in range(3):
        usage.count_transformation(f"k{n}", NOW + n)
    with pytest.raises(QuotaReached) as reached:
        usage.count_transformation("new", NOW + DAY_MICROS, quota=3)
    assert reached.value.quota == 3
    assert reached.value.frees_at == NOW + WINDOW_MICROS  # when the oldest count runs out
    with pytest.raises(QuotaReached):
        usage.check_quota("new", NOW + DAY_MICROS, 3)
    usage.check_quota("k1", NOW + DAY_MICROS, 3)  # already counted: not new
    assert usage.count_transformation("k1", NOW + DAY_MICROS, quota=3) == NOW + 1
    assert usage.in_window(NOW + DAY_MICROS) == 3  # the refusal changed nothing
    # Once the oldest window has run out there is room again.
    assert usage.count_transformation("new", NOW + WINDOW_MICROS, quota=3) == NOW + WINDOW_MICROS


def test_the_quota_holds_under_concurrency(usage: UsageStore) -> None:
    def count(n: int) -> bool:
        try:
            usage.count_transformation(f"k{n}", NOW, quota=5)
        except QuotaReached:
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        counted = list(pool.map(count, range(40)))
    assert sum(counted) == 5
    assert usage.in_window(NOW) == 5


def test_daily_counters_add_up_and_quiet_days_show(usage: UsageStore) -> None:
    today = day_number(NOW)
    usage.add(Metric.DELIVERIES, [(today, 3), (today + 2, 4)])
    usage.add(Metric.DELIVERIES, [(today, 2)])
    report = usage.daily(DAY, DAY + timedelta(days=2))
    assert [day.day for day in report] == [DAY + timedelta(days=n) for n in range(3)]
    assert [day.deliveries for day in report] == [5, 0, 4]


def stored(image_id: str, uploaded: datetime) -> ImageRecord:
    return ImageRecord(
        id=image_id,
        filename=None,
        metadata={},
        require_signed_urls=False,
        uploaded=uploaded,
        draft=False,
        upload_expires=None,
        format="jpeg",
        width=10,
        height=10,
        size=100,
        content_hash="0" * 64,
    )


def test_images_stored_follow_uploads_and_deletions(engine: Engine, usage: UsageStore) -> None:
    catalog = HostedCatalog(engine)
    catalog.add_image(stored("before", T0 - timedelta(days=10)))
    catalog.add_image(stored("a", T0))
    catalog.add_image(stored("b", T0 + timedelta(days=1)))
    today = datetime.now(UTC).date()
    catalog.delete_image("a")  # deleted today
    draft = stored("draft", T0)
    catalog.add_image(
        ImageRecord(**{**draft.__dict__, "draft": True, "upload_expires": T0 + timedelta(days=1)})
    )
    catalog.delete_image("draft")  # a draft never was a stored image
    report = usage.daily(DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert [day.images_stored for day in report] == [1, 2, 3]
    assert usage.daily(today, today)[0].images_stored == 2
