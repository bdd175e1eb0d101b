"""Metering: unique transformations per rolling 30 days, hosted deliveries, and the quotas.

Hosted images are billed as the hosted product bills them: images stored and images
delivered, never as transformations; their optional quotas are `HostedQuotas`.

A transformation's key is (source, canonical options): two spellings of one variant are one
key, and `format=auto` is one key whatever format each browser gets. The catalog counts a
key once per window (`UsageStore.count_transformation`), so cache hits, retries and other
servers add nothing. A memo of the keys known to be counted spares the catalog on repeats:
it only ever says "counted until T", which stays true whatever other processes do.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cachetools import LRUCache

from focal.catalog import Metric, QuotaReached, UsageStore
from focal.catalog.times import from_micros, now_micros
from focal.catalog.usage import WINDOW_DAYS, WINDOW_MICROS, date_number, day_number
from focal.config import Settings
from focal.errors import ErrorKind, FocalError

log = logging.getLogger(__name__)
Clock = Callable[[], int]  # catalog time: microseconds since the epoch, UTC
MEMO_SIZE = 100_000  # keys remembered as counted (about 15 MB at most)


def transformation_key(source: str, options: str) -> str:
    return hashlib.sha256(f"{source}\n{options}".encode()).hexdigest()


def _quota_error(reached: QuotaReached) -> FocalError:
    frees = from_micros(reached.frees_at).strftime("%Y-%m-%d %H:%M UTC")
    return FocalError(
        ErrorKind.QUOTA_EXCEEDED,
        f"the quota of {reached.quota:,} unique transformations per {WINDOW_DAYS} days is used "
        f"up: variants already made are still served, new ones can be made again from {frees} "
        "(or raise FOCAL_TRANSFORMATION_QUOTA)",
    )


@dataclass(frozen=True)
class HostedQuotas:
    """Hosted images stored at once, and hosted deliveries per calendar month (UTC); 0: none."""

    images: int = 0
    deliveries_per_month: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> HostedQuotas:
        return cls(settings.hosted_images_quota, settings.hosted_deliveries_quota)


def _hosted_quota_error(what: str, quota: int, setting: str, advice: str) -> FocalError:
    return FocalError(
        ErrorKind.QUOTA_EXCEEDED,
        f"the quota of {quota:,} {what} is used up: {advice} (or raise {setting})",
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


class Meter:
    def __init__(
        self,
        usage: UsageStore,
        quota: int = 0,
        clock: Clock = now_micros,
        hosted_quotas: HostedQuotas = HostedQuotas(),
    ) -> None:
        self.usage = usage
        self.quota = quota  # 0: none
        self.hosted_quotas = hosted_quotas
        self.clock = clock
        self._counted: LRUCache[str, int] = LRUCache(MEMO_SIZE)  # key -> start of its window
        self._deliveries: Counter[int] = Counter()  # by day, not yet in the catalog
        self._stream_ms: Counter[int] = Counter()  # live-stream video served, likewise
        self._lock = threading.Lock()
        self.counted = 0  # unique transformations this process counted
        self.refused = 0  # transformations refused past the quota

    def _known(self, key: str) -> bool:
        with self._lock:
            started = self._counted.get(key)
            if started is None:
                return False
            if started > self.clock() - WINDOW_MICROS:
                return True
            del self._counted[key]
            return False

    def _remember(self, key: str, started: int) -> None:
        with self._lock:
            self._counted[key] = started

    async def check(self, key: str) -> None:
        """Refuse, before any work, a transformation that would be new past the quota."""
        if self.quota <= 0 or self._known(key):
            return
        try:
            await asyncio.to_thread(self.usage.check_quota, key, self.clock(), self.quota)
        except QuotaReached as reached:
            self.refused += 1
            raise _quota_error(reached) from None

    async def count(self, key: str, *, enforce_quota: bool = True) -> None:
        """Count a transformation made or served, once per window.

        `enforce_quota=False` for results served from the cache: a variant already made is
        served whatever the quota, as the hosted product does.
        """
        if self._known(key):
            return
        quota = self.quota if enforce_quota else 0
        now = self.clock()
        try:
            started = await asyncio.to_thread(self.usage.count_transformation, key, now, quota)
        except QuotaReached as reached:
            self.refused += 1
            raise _quota_error(reached) from None
        if started == now:
            self.counted += 1
        self._remember(key, started)

    def note_delivery(self) -> None:
        """One hosted image served; kept in memory and added to the catalog by `flush`."""
        day = day_number(self.clock())
        with self._lock:
            self._deliveries[day] += 1

    def note_stream_delivered(self, milliseconds: int) -> None:
        """Video of a live stream served (segments, clips); added to the catalog by `flush`."""
        day = day_number(self.clock())
        with self._lock:
            self._stream_ms[day] += milliseconds

    def deliveries_this_month(self) -> int:
        """Hosted deliveries since the first of this month (UTC), this server's unflushed
        ones included (synchronous). Read before the catalog, so a flush in between counts
        twice rather than not at all: a quota refuses early, never late."""
        today = from_micros(self.clock()).date()
        first = month_start(today)
        with self._lock:
            pending = sum(n for day, n in self._deliveries.items() if day >= date_number(first))
        return pending + self.usage.total(Metric.DELIVERIES, first, today)

    async def check_delivery(self) -> None:
        """Refuse a hosted delivery past the monthly quota of deliveries."""
        quota = self.hosted_quotas.deliveries_per_month
        if quota <= 0:
            return
        if await asyncio.to_thread(self.deliveries_this_month) >= quota:
            self.refused += 1
            raise _hosted_quota_error(
                "hosted deliveries this month",
                quota,
                "FOCAL_HOSTED_DELIVERIES_QUOTA",
                "images are delivered again from the first of next month (UTC)",
            )

    def check_storage(self, stored: int) -> None:
        """Refuse a new hosted image when `stored` images already fill the quota."""
        quota = self.hosted_quotas.images
        if quota > 0 and stored >= quota:
            raise _hosted_quota_error(
                "hosted images stored",
                quota,
                "FOCAL_HOSTED_IMAGES_QUOTA",
                "delete images to make room",
            )

    def flush(self) -> None:
        """Add the deliveries noted so far to the catalog (synchronous)."""
        with self._lock:
            pending, self._deliveries = self._deliveries, Counter()
            streamed, self._stream_ms = self._stream_ms, Counter()
        try:
            if pending:
                self.usage.add(Metric.DELIVERIES, pending.items())
                pending = Counter()
            if streamed:
                self.usage.add(Metric.STREAM_MS_DELIVERED, streamed.items())
        except BaseException:
            with self._lock:  # try again at the next flush
                self._deliveries.update(pending)
                self._stream_ms.update(streamed)
            raise

    def report(
        self, first: date | None, last: date | None, *, price_per_1000: float
    ) -> dict[str, Any]:
        """`usage_report` from `first` to `last` (default: the last 30 days), with this
        server's deliveries so far (synchronous)."""
        now = self.clock()
        first_day, last_day = report_range(first, last, from_micros(now).date())
        self.flush()
        return usage_report(
            self.usage,
            first_day,
            last_day,
            price_per_1000=price_per_1000,
            quota=self.quota,
            now=now,
            hosted_quotas=self.hosted_quotas,
        )

    async def flush_every(self, seconds: float) -> None:
        """Flush in the background until cancelled; a server loses at most this much on a crash."""
        await flush_every(self.flush, seconds, "usage: cannot write deliveries yet")


async def flush_every(flush: Callable[[], None], seconds: float, failure: str) -> None:
    """Run `flush` in a thread every `seconds` until cancelled; a failure (the catalog away)
    is logged with `failure` and the counts wait for the next turn."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(flush)
        except Exception as error:
            log.warning("%s: %s", failure, error)


def _minutes(milliseconds: int) -> float:
    return round(milliseconds / 60_000, 3)


def usage_report(
    usage: UsageStore,
    first: date,
    last: date,
    *,
    price_per_1000: float,
    quota: int,
    now: int,
    hosted_quotas: HostedQuotas = HostedQuotas(),
) -> dict[str, Any]:
    """Daily and total usage from `first` to `last` (UTC days, both included), with cost;
    and the hosted images' quotas, as they stand now."""
    if last < first:
        raise FocalError(ErrorKind.BAD_REQUEST, f"'to' ({last}) is before 'from' ({first})")
    if (last - first).days > 3660:
        raise FocalError(ErrorKind.BAD_REQUEST, "ask for at most ten years at a time")

    def cost(transformations: int) -> float:
        return round(transformations * price_per_1000 / 1000, 4)

    days = usage.daily(first, last)
    total = sum(day.transformations for day in days)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "price_per_1000_transformations": price_per_1000,
        "days": [
            {
                "date": day.day.isoformat(),
                "unique_transformations": day.transformations,
                "deliveries": day.deliveries,
                "images_stored": day.images_stored,
                "stream_minutes_recorded": _minutes(day.stream_ms_recorded),
                "stream_minutes_delivered": _minutes(day.stream_ms_delivered),
                "cost": cost(day.transformations),
            }
            for day in days
        ],
        "total": {
            "unique_transformations": total,
            "deliveries": sum(day.deliveries for day in days),
            "images_stored": days[-1].images_stored,
            "stream_minutes_recorded": _minutes(sum(day.stream_ms_recorded for day in days)),
            "stream_minutes_delivered": _minutes(sum(day.stream_ms_delivered for day in days)),
            "cost": cost(total),
        },
        "window": {
            "days": WINDOW_DAYS,
            "unique_transformations": usage.in_window(now),
            "quota": quota or None,
        },
        "hosted": hosted_usage(usage, hosted_quotas, from_micros(now).date()),
    }


def hosted_usage(usage: UsageStore, quotas: HostedQuotas, today: date) -> dict[str, Any]:
    """Images stored now and deliveries this month (UTC), each with its quota (None: none)."""
    first = month_start(today)
    return {
        "images_stored": usage.daily(today, today)[-1].images_stored,
        "images_quota": quotas.images or None,
        "month": first.strftime("%Y-%m"),
        "deliveries_this_month": usage.total(Metric.DELIVERIES, first, today),
        "deliveries_quota": quotas.deliveries_per_month or None,
    }


def report_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days a report covers: by default the last 30 days, today included."""
    last = last or today
    return first or last - timedelta(days=WINDOW_DAYS - 1), last
