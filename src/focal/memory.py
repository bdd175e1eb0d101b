"""Keeping a long-running server's memory flat.

glibc gives every thread that allocates its own malloc arena and rarely returns freed
memory from them, so a server whose threads decode many images of different sizes grows
until it holds the worst case of each arena. Two arenas and returning large blocks to the
system straight away keep resident memory close to what is in use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # blocks from here up are mapped and unmapped, never cached
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def limit_malloc_arenas() -> None:
    """Apply to this process now, and through the environment to processes it starts."""
    os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))
    name = ctypes.util.find_library("c")
    if name is None:  # not glibc: nothing to tune
        return
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))
    mallopt(_M_MMAP_THRESHOLD, int(os.environ["MALLOC_MMAP_THRESHOLD_"]))
