"""Results: one point per scenario and concurrency, shown as a table and written as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.memory import MemoryPeak
from bench.scenarios import Scenario
from bench.stats import Measurement


@dataclass
class Point:
    scenario: Scenario
    server: Measurement
    floor: Measurement | None
    memory: MemoryPeak
    client_cpu_seconds: float  # the load generator's own CPU: it shares the two cores
    load_average: float  # the machine's 1-minute load just before: other people's work shows
    reference: Point | None = None  # the reference scenario's point at the same concurrency

    @property
    def ratio(self) -> float | None:
        if self.floor is None or not self.floor.per_second:
            return None
        return self.server.per_second / self.floor.per_second

    @property
    def cpu_ratio(self) -> float | None:
        """Floor CPU per image (or the reference scenario's server CPU per request) over
        server CPU per request: the throughput ratio a machine with nothing else running
        would give if both were CPU-bound. Steadier than the wall-clock ratio when other work
        shares the cores."""
        base = self.floor or (self.reference.server if self.reference else None)
        if base is None or not base.cpu_seconds or not self.server.cpu_seconds:
            return None
        return base.cpu_ms_per_job / self.server.cpu_ms_per_job

    @property
    def reference_p50_ratio(self) -> float | None:
        """p50 / the reference scenario's p50."""
        if self.reference is None or not self.reference.server.p50_ms:
            return None
        return self.server.p50_ms / self.reference.server.p50_ms

    @property
    def reference_throughput_ratio(self) -> float | None:
        """req/s / the reference scenario's req/s."""
        if self.reference is None or not self.reference.server.per_second:
            return None
        return self.server.per_second / self.reference.server.per_second

    @property
    def slowdown(self) -> float | None:
        """An SDK chain scenario: remote time per image over embedded (throughput ratio)."""
        if self.scenario.chain is None or self.floor is None or not self.server.per_second:
            return None
        return self.floor.per_second / self.server.per_second

    @property
    def slowdown_met(self) -> bool | None:
        target, slowdown = self.scenario.slowdown_target, self.slowdown
        return None if target is None or slowdown is None else slowdown <= target

    @property
    def ratio_met(self) -> bool | None:
        target, ratio = self.scenario.target_ratio, self.ratio
        return None if target is None or ratio is None else ratio >= target

    @property
    def memory_target_mib(self) -> float | None:
        # The issue sets the memory target at concurrency 16 only.
        return self.scenario.memory_target_mib if self.server.concurrency >= 16 else None

    @property
    def memory_met(self) -> bool | None:
        target = self.memory_target_mib
        return None if target is None else self.memory.total_mib <= target

    @property
    def reference_met(self) -> bool | None:
        """Both reference targets that are set met: p50 at most, throughput at least."""
        checks = []
        target, ratio = self.scenario.reference_target, self.reference_p50_ratio
        if target is not None and ratio is not None:
            checks.append(ratio <= target)
        target, ratio = self.scenario.reference_throughput_target, self.reference_throughput_ratio
        if target is not None and ratio is not None:
            checks.append(ratio >= target)
        return all(checks) if checks else None


def link_references(points: list[Point]) -> None:
    """Link each point to its reference scenario's point at the same concurrency."""
    by_key = {(p.scenario.name, p.server.concurrency): p for p in points}
    for point in points:
        if point.scenario.reference is not None:
            point.reference = by_key.get((point.scenario.reference, point.server.concurrency))


def _verdict(text: str, met: bool | None) -> str:
    if met is None:
        return text
    return f"[green]{text} ✓[/green]" if met else f"[red]{text} ✗[/red]"


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def print_table(points: list[Point], console: Console) -> None:
    table = Table(title="Focal over HTTP vs the in-process pyvips floor", title_justify="left")
    for column in ("scenario", "conc", "requests", "errors", "req/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for column in (
        "floor img/s",
        "floor p50",
        "server/floor",
        "target",
        "CPU ratio",
        "peak RSS MiB",
    ):
        table.add_column(column, justify="right")
    for point in points:
        server, floor = point.server, point.floor
        target = point.scenario.target_ratio
        memory = _number(point.memory.total_mib, 0)
        if point.memory_target_mib is not None:
            memory = _verdict(f"{memory} (≤{point.memory_target_mib:.0f})", point.memory_met)
        ratio = _number(point.ratio, 2)
        if point.slowdown is not None:
            ratio = f"remote/embedded {point.slowdown:.2f}×"
            target = point.scenario.slowdown_target
            met = point.slowdown_met
        elif point.reference_throughput_ratio is not None and (
            point.scenario.reference_throughput_target is not None
        ):
            ratio = (
                f"req/s {point.reference_throughput_ratio:.2f}×, "
                f"p50 {point.reference_p50_ratio:.2f}× {point.scenario.reference}"
            )
            target = point.scenario.reference_throughput_target
            met = point.reference_met
        elif point.reference_p50_ratio is not None:
            ratio = f"p50 {point.reference_p50_ratio:.2f}× {point.scenario.reference}"
            target = point.scenario.reference_target
            met = point.reference_met
        elif server.sent_bytes:
            ratio = f"sent {server.sent_mb_per_second:.1f} MB/s"
            met = None
        else:
            met = point.ratio_met
        table.add_row(
            point.scenario.name,
            str(server.concurrency),
            str(server.count),
            _verdict(str(len(server.errors)), not server.errors),
            _number(server.per_second),
            _number(server.p50_ms),
            _number(server.p95_ms),
            _number(floor.per_second if floor else None),
            _number(floor.p50_ms if floor else None),
            _verdict(ratio, met),
            "—" if target is None else f"{target:g}",
            _number(point.cpu_ratio, 2),
            memory,
        )
    console.print(table)

    details = Table(
        title="CPU per image (ms; server includes its children) and RSS (MiB)", title_justify="left"
    )
    for column in (
        "scenario",
        "conc",
        "server",
        "floor",
        "client",
        "all at start",
        "server peak",
        "children peak",
        "VmHWM",
        "PSS at end",
        "load avg",
    ):
        details.add_column(column, justify="left" if column == "scenario" else "right")
    for point in points:
        server = point.server
        details.add_row(
            point.scenario.name,
            str(server.concurrency),
            _number(server.cpu_ms_per_job),
            _number(point.floor.cpu_ms_per_job if point.floor else None),
            _number(point.client_cpu_seconds * 1000 / server.count),
            _number(point.memory.start_mib, 0),
            _number(point.memory.server_mib, 0),
            _number(point.memory.children_mib, 0),
            _number(point.memory.server_hwm_mib, 0),
            _number(point.memory.end_pss_mib, 0),
            _number(point.load_average, 2),
        )
    console.print(details)
    children: dict[str, float] = {}
    for point in points:
        for name, mib in point.memory.processes.items():
            children[name] = max(children.get(name, 0.0), mib)
    if children:
        listed = ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(children.items()))
        console.print(f"child processes of the server (pid, peak RSS MiB): {listed}")
    for point in points:
        for error in sorted(set(point.server.errors))[:3]:
            console.print(f"[red]{point.scenario.name} c{point.server.concurrency}:[/red] {error}")


def _measurement_json(measurement: Measurement | None) -> dict[str, Any] | None:
    if measurement is None:
        return None
    return {
        "count": measurement.count,
        "errors": len(measurement.errors),
        "error_samples": sorted(set(measurement.errors))[:5],
        "seconds": round(measurement.seconds, 3),
        "per_second": round(measurement.per_second, 2),
        "p50_ms": round(measurement.p50_ms, 1),
        "p95_ms": round(measurement.p95_ms, 1),
        "cpu_ms_per_job": round(measurement.cpu_ms_per_job, 1),
        "sent_mb_per_second": round(measurement.sent_mb_per_second, 2),
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def point_json(point: Point) -> dict[str, Any]:
    scenario = point.scenario
    return {
        "scenario": scenario.name,
        "options": scenario.options,
        "sources": scenario.sources,
        "concurrency": point.server.concurrency,
        "server": _measurement_json(point.server),
        "floor": _measurement_json(point.floor),
        "ratio": _rounded(point.ratio, 3),
        "target_ratio": scenario.target_ratio,
        "ratio_met": point.ratio_met,
        "cpu_ratio": _rounded(point.cpu_ratio, 3),
        "reference": scenario.reference,
        "reference_p50_ratio": _rounded(point.reference_p50_ratio, 3),
        "reference_target": scenario.reference_target,
        "reference_throughput_ratio": _rounded(point.reference_throughput_ratio, 3),
        "reference_throughput_target": scenario.reference_throughput_target,
        "reference_met": point.reference_met,
        "remote_embedded_ratio": _rounded(point.slowdown, 3),
        "slowdown_target": scenario.slowdown_target,
        "slowdown_met": point.slowdown_met,
        "memory_mib": {
            "start": round(point.memory.start_mib, 1),
            "peak_total": round(point.memory.total_mib, 1),
            "peak_server": round(point.memory.server_mib, 1),
            "peak_children": round(point.memory.children_mib, 1),
            "server_vmhwm": _rounded(point.memory.server_hwm_mib, 1),
            "end_pss_total": _rounded(point.memory.end_pss_mib, 1),
            "children": {name: round(mib, 1) for name, mib in point.memory.processes.items()},
            "samples": point.memory.samples,
        },
        "memory_target_mib": point.memory_target_mib,
        "memory_met": point.memory_met,
        "client_cpu_ms_per_request": round(point.client_cpu_seconds * 1000 / point.server.count, 2),
        "load_average_1min": round(point.load_average, 2),
    }


def write_json(path: Path, points: list[Point], context: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**context, "results": [point_json(point) for point in points]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
