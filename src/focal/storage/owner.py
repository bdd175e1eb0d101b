"""Who is writing: a process, named so that another process can tell whether it still lives.

An owner is `<space>-<pid>-<start>`: the pid space (a hash of the kernel's boot id and the pid
namespace), the pid, and the process's start time in clock ticks since boot. A pid alone
could be reused; with its start time it names one process for ever. Only a process in the
same pid space can judge an owner: one on another host, or in another container, is never
judged gone, so what it holds is waited for until it expires.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets

_OWNER = re.compile(r"([0-9a-f]{16})-([0-9]+)-([0-9]+)")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _start_ticks(pid: int) -> int | None:
    """The start time of process pid (field 22 of /proc/<pid>/stat), or None if there is none."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # The name (field 2) is in parentheses and may hold spaces: count from after it.
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


@functools.cache
def pid_space() -> str:
    """This kernel boot and pid namespace; random where /proc can't tell (never matches)."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = None
    if boot is None or namespace is None:
        return secrets.token_hex(8)
    return hashlib.sha256(f"{boot} {namespace}".encode()).hexdigest()[:16]


def this_process() -> str:
    """The owner name of the calling process (not cached: a forked child is another owner)."""
    pid = os.getpid()
    return f"{pid_space()}-{pid}-{_start_ticks(pid) or 0}"


def is_gone(owner: str) -> bool:
    """True only when owner is known to be dead: a process of this pid space that has exited.

    Anything else (another host, another container, a name this module did not make) is
    never judged gone.
    """
    found = _OWNER.fullmatch(owner)
    if found is None or found.group(1) != pid_space():
        return False
    pid, start = int(found.group(2)), int(found.group(3))
    return _start_ticks(pid) != start


def leading_owner(text: str) -> str | None:
    """The owner name text starts with (such as a temporary file's name), if it does."""
    found = _OWNER.match(text)
    return None if found is None else found.group(0)
