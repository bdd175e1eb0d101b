"""One measurement: how many, how fast, how long each took."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Measurement:
    """`count` jobs at `concurrency` in `seconds` of wall time; latencies of the good ones."""

    concurrency: int
    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU the worker side used: the server tree, or the floor
    sent_bytes: int = 0  # request bodies of the good ones (uploads)

    def absorb(self, other: Measurement) -> None:
        """Add another round of the same measurement to this one."""
        self.count += other.count
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors
        self.cpu_seconds += other.cpu_seconds
        self.sent_bytes += other.sent_bytes

    @property
    def per_second(self) -> float:
        return (self.count - len(self.errors)) / self.seconds if self.seconds > 0 else 0.0

    @property
    def sent_mb_per_second(self) -> float:
        """Request bodies sent, in MB (10⁶ bytes) per second of wall time."""
        return self.sent_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 0.95) * 1000

    @property
    def cpu_ms_per_job(self) -> float:
        return self.cpu_seconds * 1000 / self.count if self.count else math.nan
