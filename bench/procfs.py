"""Facts about running processes, read from /proc (Linux only; psutil is not a dependency)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
MIB = 1024 * 1024
_TICKS = os.sysconf("SC_CLK_TCK")


def _read(pid: int, name: str) -> str | None:
    try:
        return (PROC / str(pid) / name).read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None  # the process is gone, or not ours


def status_mib(pid: int, field: str) -> float | None:
    """A `VmRSS:`-style field of /proc/<pid>/status in MiB; None once the process is gone."""
    text = _read(pid, "status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MIB
    return 0.0  # kernel threads and zombies have no Vm* fields


def pss_mib(pid: int) -> float | None:
    """Proportional set size: shared pages (libvips, libpython, onnxruntime mapped by several
    processes) counted once across the service rather than once per process as RSS does.
    Slower to read than VmRSS, so it is read once per measurement, not every sample."""
    text = _read(pid, "smaps_rollup")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024 / MIB
    return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3… of /proc/<pid>/stat. The command name (field 2) may contain spaces and
    parentheses, so the line is split after the last ')'."""
    text = _read(pid, "stat")
    return None if text is None else text.rsplit(")", 1)[1].split()


def descendants(root: int) -> list[int]:
    """Every process below `root`. /proc/<pid>/task/*/children needs CONFIG_PROC_CHILDREN,
    which not every kernel has, so the tree is built from the parent pid in each stat file."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def describe(pid: int) -> str:
    """A short name for a process: what a person reading the results needs to tell them apart."""
    command = (_read(pid, "cmdline") or "").replace("\0", " ").strip()
    for marker, name in (
        ("multiprocessing.spawn", "spawned worker"),
        ("multiprocessing.forkserver", "fork server"),
        ("multiprocessing.resource_tracker", "resource tracker"),
    ):
        if marker in command:
            return name
    return command.rsplit("/", 1)[-1][:60] or "?"


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time these processes have used so far."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def reset_peak(pid: int) -> bool:
    """Reset the kernel's peak RSS (VmHWM) of a process we own, so that it covers one scenario."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True
