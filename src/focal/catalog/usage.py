"""Usage: unique transformations per rolling 30-day window, and daily counters.

A transformation is counted when it is first made and again once its window has run out;
`metered_transformations` keeps, per key, when its current window started. `usage_daily`
holds additive counters per UTC day (transformations, deliveries, images added and deleted),
so several servers on one catalog add up exactly and any range of days sums in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from focal.catalog.schema import metered_transformations, usage_daily
from focal.catalog.store import Store, lock_catalog
from focal.catalog.times import EPOCH

DAY_MICROS = 86_400 * 1_000_000
WINDOW_DAYS = 30
WINDOW_MICROS = WINDOW_DAYS * DAY_MICROS


class Metric(StrEnum):
    TRANSFORMATIONS = "transformations"  # unique transformations counted that day
    DELIVERIES = "deliveries"  # hosted images served
    IMAGES_ADDED = "images_added"
    IMAGES_DELETED = "images_deleted"
    STREAM_MS_RECORDED = "stream_ms_recorded"  # milliseconds of live video recorded
    STREAM_MS_DELIVERED = "stream_ms_delivered"  # milliseconds of video segments served
    CALLS_EGRESS_BYTES = "calls_egress_bytes"  # bytes the SFU sent to clients, all apps


def day_number(micros: int) -> int:
    """The UTC day of a catalog time, as days since 1970-01-01."""
    return micros // DAY_MICROS


def day_date(number: int) -> date:
    return EPOCH.date() + timedelta(days=number)


def date_number(day: date) -> int:
    return (day - EPOCH.date()).days


def add_usage(connection: Connection, metric: Metric, day: int, amount: int = 1) -> None:
    """Add to a daily counter inside the caller's transaction: one atomic upsert."""
    values = {"day": day, "metric": metric.value, "amount": amount}
    total = usage_daily.c.amount + amount
    keys, changes = ["day", "metric"], {"amount": total}
    if connection.dialect.name == "postgresql":
        upsert = postgresql.insert(usage_daily).values(**values)
        connection.execute(upsert.on_conflict_do_update(index_elements=keys, set_=changes))
    elif connection.dialect.name == "sqlite":
        lite = sqlite.insert(usage_daily).values(**values)
        connection.execute(lite.on_conflict_do_update(index_elements=keys, set_=changes))
    else:  # other backends: callers that race here hold lock_catalog
        where = (usage_daily.c.day == day, usage_daily.c.metric == metric.value)
        changed = connection.execute(update(usage_daily).where(*where).values(amount=total))
        if changed.rowcount == 0:
            connection.execute(insert(usage_daily).values(**values))


class QuotaReached(Exception):
    """A new transformation past the quota; `frees_at` is when the oldest count runs out."""

    def __init__(self, quota: int, frees_at: int) -> None:
        super().__init__(quota, frees_at)
        self.quota = quota
        self.frees_at = frees_at


@dataclass(frozen=True)
class DayUsage:
    day: date
    transformations: int
    deliveries: int
    images_stored: int  # at the end of the day
    stream_ms_recorded: int = 0  # live-stream video recorded, milliseconds
    stream_ms_delivered: int = 0  # live-stream video served, milliseconds


class UsageStore(Store):
    def window_start(self, key: str, now: int) -> int | None:
        """When `key`'s current window started, if it is still running; a plain read."""
        query = select(metered_transformations.c.counted_at).where(
            metered_transformations.c.key == key
        )
        with self.engine.connect() as connection:
            counted_at = connection.execute(query).scalar()
        if counted_at is None or counted_at <= now - WINDOW_MICROS:
            return None
        return int(counted_at)

    def check_quota(self, key: str, now: int, quota: int) -> None:
        """Raise QuotaReached if `key` would be a new count and the window is full (a read)."""
        if quota <= 0 or self.window_start(key, now) is not None:
            return
        with self.engine.connect() as connection:
            self._check_room(connection, now, quota)

    def _check_room(self, connection: Connection, now: int, quota: int) -> None:
        running = metered_transformations.c.counted_at > now - WINDOW_MICROS
        used, oldest = connection.execute(
            select(func.count(), func.min(metered_transformations.c.counted_at)).where(running)
        ).one()
        if used >= quota:
            raise QuotaReached(quota, int(oldest) + WINDOW_MICROS)

    def count_transformation(self, key: str, now: int, quota: int = 0) -> int:
        """Count `key` unless its window is running; returns the start of its window.

        Exact across processes: the check and the count happen under the catalog's write
        lock. With a quota, a count past it raises QuotaReached and changes nothing.
        """
        started = self.window_start(key, now)
        if started is not None:  # the common case, without taking the lock
            return started
        with self.engine.begin() as connection:
            lock_catalog(connection)
            row = connection.execute(
                select(metered_transformations.c.counted_at).where(
                    metered_transformations.c.key == key
                )
            ).first()
            if row is not None and row.counted_at > now - WINDOW_MICROS:
                return int(row.counted_at)  # another process counted it meanwhile
            if quota > 0:
                self._check_room(connection, now, quota)
            if row is None:
                connection.execute(insert(metered_transformations).values(key=key, counted_at=now))
            else:
                connection.execute(
                    update(metered_transformations)
                    .where(metered_transformations.c.key == key)
                    .values(counted_at=now)
                )
            add_usage(connection, Metric.TRANSFORMATIONS, day_number(now))
        return now

    def add(self, metric: Metric, amounts: Iterable[tuple[int, int]]) -> None:
        """Add (day, amount) pairs to a daily counter, in one transaction."""
        with self.engine.begin() as connection:
            for day, amount in amounts:
                add_usage(connection, metric, day, amount)

    def total(self, metric: Metric, first: date, last: date) -> int:
        """A daily counter summed from `first` to `last` (UTC days, both included)."""
        query = select(func.coalesce(func.sum(usage_daily.c.amount), 0)).where(
            usage_daily.c.metric == metric.value,
            usage_daily.c.day >= date_number(first),
            usage_daily.c.day <= date_number(last),
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def in_window(self, now: int) -> int:
        """Unique transformations counted in the 30 days up to `now`."""
        query = select(func.count()).where(
            metered_transformations.c.counted_at > now - WINDOW_MICROS
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def daily(self, first: date, last: date) -> list[DayUsage]:
        """Every day from `first` to `last` (UTC), days without activity included."""
        start, end = date_number(first), date_number(last)
        query = select(usage_daily.c.day, usage_daily.c.metric, usage_daily.c.amount).where(
            usage_daily.c.day <= end
        )
        counts: dict[tuple[int, str], int] = {}
        stored = 0  # images stored at the end of the day before `first`
        with self.engine.connect() as connection:
            for day, metric, amount in connection.execute(query):
                if day >= start:
                    counts[day, metric] = int(amount)
                elif metric == Metric.IMAGES_ADDED:
                    stored += int(amount)
                elif metric == Metric.IMAGES_DELETED:
                    stored -= int(amount)
        days = []
        for number in range(start, end + 1):
            stored += counts.get((number, Metric.IMAGES_ADDED), 0)
            stored -= counts.get((number, Metric.IMAGES_DELETED), 0)
            days.append(
                DayUsage(
                    day_date(number),
                    counts.get((number, Metric.TRANSFORMATIONS), 0),
                    counts.get((number, Metric.DELIVERIES), 0),
                    stored,
                    counts.get((number, Metric.STREAM_MS_RECORDED), 0),
                    counts.get((number, Metric.STREAM_MS_DELIVERED), 0),
                )
            )
        return days
