"""Catalog times: integer microseconds since the epoch, exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        # A naive time could be local or UTC; guessing would shift records by hours.
        raise ValueError("catalog times must be timezone-aware (UTC)")
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


def now_micros() -> int:
    return time.time_ns() // 1000
