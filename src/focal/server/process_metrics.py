"""`/metrics` for several server processes (`focal serve --workers N`): the sum of them all.

Prometheus scrapes one process at a time, and each counts only what it served. So each
process writes a snapshot of its registry to `<folder>/<pid>.json` every few seconds (and
at once when it is scraped), and a scrape answers with the samples of the processes still
running, summed series by series. A process that has ended takes its counts with it: the
sum falls, which Prometheus reads as a counter reset, as it would for one process.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

SNAPSHOT_SECONDS = 2.0


class ProcessMetrics(Collector):
    """This process's registry, written for the others; their sum, collected for a scrape."""

    def __init__(self, folder: Path, registry: CollectorRegistry, pid: int | None = None) -> None:
        self.folder = Path(folder)
        self.registry = registry
        self.pid = os.getpid() if pid is None else pid
        self.folder.mkdir(parents=True, exist_ok=True)

    def write(self) -> None:
        """This process's snapshot, replaced whole (a reader sees the old one or the new)."""
        families = [
            {
                "name": family.name,
                "documentation": family.documentation,
                "type": family.type,
                # Creation times are per process: a sum of them means nothing.
                "samples": [
                    [sample.name, sample.labels, sample.value]
                    for sample in family.samples
                    if not sample.name.endswith("_created")
                ],
            }
            for family in self.registry.collect()
        ]
        path = self.folder / f"{self.pid}.json"
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        temporary.write_text(json.dumps(families))
        os.replace(temporary, path)

    async def write_every(self, seconds: float = SNAPSHOT_SECONDS) -> None:
        while True:
            await asyncio.to_thread(self.write)
            await asyncio.sleep(seconds)

    def remove(self) -> None:
        with suppress(FileNotFoundError):
            (self.folder / f"{self.pid}.json").unlink()

    def collect(self) -> Iterator[Metric]:
        """Every running process's families, each series summed over them."""
        self.write()
        merged: dict[str, Metric] = {}
        totals: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for path in sorted(self.folder.glob("*.json")):
            if not _running(int(path.stem)):
                with suppress(FileNotFoundError):
                    path.unlink()
                continue
            try:
                families = json.loads(path.read_text())
            except (OSError, ValueError):  # replaced or gone while read
                continue
            for family in families:
                name = family["name"]
                if name not in merged:
                    merged[name] = Metric(name, family["documentation"], family["type"])
                    totals[name] = {}
                series = totals[name]
                for sample_name, labels, value in family["samples"]:
                    key = (sample_name, tuple(sorted(labels.items())))
                    series[key] = series.get(key, 0.0) + value
        for name, metric in merged.items():
            for (sample_name, labels), value in totals[name].items():
                metric.add_sample(sample_name, dict(labels), value)
            yield metric


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def summed_registry(processes: ProcessMetrics) -> CollectorRegistry:
    """A registry answering with the processes' sum."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(processes)
    return registry
