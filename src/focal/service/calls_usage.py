"""Calls egress: bytes the SFU sends to clients, per app, counted in memory and flushed to the
catalog; and its part of `/usage`, billed as the product bills it: GB per calendar month
(UTC) past a free allowance, at a price per GB. Inbound media is free and not counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from focal.catalog import Metric, UsageStore
from focal.catalog.calls import CallsAppStore
from focal.catalog.usage import day_number
from focal.config import Settings
from focal.service.metering import Clock, flush_every, month_start

GB = 1_000_000_000  # the product bills decimal gigabytes


class EgressMeter:
    def __init__(self, apps: CallsAppStore, clock: Clock) -> None:
        self.apps = apps
        self.clock = clock
        self._pending: Counter[tuple[int, str]] = Counter()  # (day, app) -> bytes
        self._lock = threading.Lock()
        self.sent = 0  # bytes this process sent to clients

    def add(self, app_id: str, sent: int) -> None:
        """`sent` bytes went to a client of `app_id` (called for each datagram)."""
        day = day_number(self.clock())
        with self._lock:
            self._pending[day, app_id] += sent
            self.sent += sent

    def flush(self) -> None:
        """Write what was counted to the catalog (synchronous)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        by_day: dict[int, dict[str, int]] = {}
        for (day, app_id), amount in pending.items():
            by_day.setdefault(day, {})[app_id] = amount
        try:
            for day, amounts in by_day.items():
                self.apps.add_egress(day, amounts)
                for app_id in amounts:
                    del pending[day, app_id]
        except BaseException:
            with self._lock:  # try again at the next flush
                self._pending.update(pending)
            raise

    async def flush_every(self, seconds: float) -> None:
        await flush_every(self.flush, seconds, "calls usage: cannot write egress yet")


def billable_gb(usage: UsageStore, first: date, last: date, free_gb_per_month: float) -> float:
    """GB from `first` to `last` past each month's free allowance, exactly: a month's
    allowance is used up from the first of that month, even before `first`."""
    billable = 0.0
    day = first
    while day <= last:
        start = month_start(day)
        next_month = (start + timedelta(days=32)).replace(day=1)
        end = min(last, next_month - timedelta(days=1))
        before = usage.total(Metric.CALLS_EGRESS_BYTES, start, day - timedelta(days=1)) / GB
        through = before + usage.total(Metric.CALLS_EGRESS_BYTES, day, end) / GB
        billable += max(0.0, through - free_gb_per_month) - max(0.0, before - free_gb_per_month)
        day = next_month
    return billable


def calls_report(
    usage: UsageStore,
    apps: CallsAppStore,
    first: date,
    last: date,
    *,
    price_per_gb: float,
    free_gb_per_month: float,
) -> dict[str, Any]:
    """Egress from `first` to `last` (UTC days, both included): bytes, GB and cost, per app."""
    sent = usage.total(Metric.CALLS_EGRESS_BYTES, first, last)
    billable = billable_gb(usage, first, last, free_gb_per_month)
    by_app = apps.egress_by_app(first, last)
    return {
        "price_per_gb": price_per_gb,
        "free_gb_per_month": free_gb_per_month,
        "egress_bytes": sent,
        "egress_gb": round(sent / GB, 6),
        "billable_gb": round(billable, 6),
        "cost": round(billable * price_per_gb, 4),
        "apps": [
            {"appId": app_id, "egress_bytes": amount, "egress_gb": round(amount / GB, 6)}
            for app_id, amount in sorted(by_app.items())
        ],
    }


def calls_report_of(catalog: Engine, settings: Settings, first: str, last: str) -> dict[str, Any]:
    """`calls_report` for a usage report's range (ISO days), at the settings' price."""
    return calls_report(
        UsageStore(catalog),
        CallsAppStore(catalog),
        date.fromisoformat(first),
        date.fromisoformat(last),
        price_per_gb=settings.calls_price_per_gb,
        free_gb_per_month=settings.calls_free_gb_per_month,
    )
