"""Peak resident memory of the whole service: the server process and all its descendants."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType

from bench.procfs import descendants, describe, pss_mib, reset_peak, status_mib


@dataclass
class MemoryPeak:
    start_mib: float = 0.0  # the whole service when the measurement began
    total_mib: float = 0.0  # the server and every descendant, summed at one instant
    server_mib: float = 0.0  # the server process alone
    children_mib: float = 0.0  # its descendants alone (e.g. face-detection workers)
    server_hwm_mib: float | None = None  # the kernel's own peak for the server process
    samples: int = 0
    end_pss_mib: float | None = None  # the whole service's PSS when the measurement ended
    processes: dict[str, float] = field(default_factory=dict)  # "<pid> <what>" → its own peak


class TreeSampler:
    """Samples RSS every `interval` seconds on a thread of its own, so that the load
    generator's busy event loop cannot delay samples."""

    def __init__(self, root: int, interval: float = 0.05, tree_every: int = 20) -> None:
        self.root = root
        self.interval = interval
        # Walking /proc costs milliseconds, reading one status file microseconds: look for
        # new descendants once a second and read RSS at every sample, so that the sampler
        # takes almost nothing from the cores being measured.
        self.tree_every = tree_every
        self.peak = MemoryPeak()
        self._children: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        reset_peak(self.root)
        self.sample()
        self.peak.start_mib = self.peak.total_mib
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        self.peak.server_hwm_mib = status_mib(self.root, "VmHWM")
        pss = [pss_mib(pid) for pid in [self.root, *self._children]]
        self.peak.end_pss_mib = sum(value for value in pss if value is not None)

    def sample(self) -> None:
        peak = self.peak
        if peak.samples % self.tree_every == 0:
            self._children = {pid: f"{pid} {describe(pid)}" for pid in descendants(self.root)}
        server = status_mib(self.root, "VmRSS") or 0.0
        children = 0.0
        for pid, label in self._children.items():
            rss = status_mib(pid, "VmRSS") or 0.0
            children += rss
            peak.processes[label] = max(peak.processes.get(label, 0.0), rss)
        peak.samples += 1
        peak.server_mib = max(peak.server_mib, server)
        peak.children_mib = max(peak.children_mib, children)
        peak.total_mib = max(peak.total_mib, server + children)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
