"""libvips as every Focal process uses it: safe loaders only, no operation cache.

Import this module before using pyvips.
"""

from __future__ import annotations

from typing import Any

import pyvips

# Loaders that are not fuzzed for untrusted input (and libvips' own formats) are refused.
pyvips.block_untrusted_set(True)
# The operation cache would keep recent originals alive between requests: every request here
# works on different bytes, so the cache only costs memory.
pyvips.cache_set_max(0)


def _log_only_warnings() -> None:
    """pyvips hands every libvips log level to Python's logging; libvips reports at info
    level for each image ("threadpool completed…"), and each line takes the interpreter lock
    from the thread that logged. Warnings and errors still reach Python's logging; the rest is
    left to GLib, which drops it (G_MESSAGES_DEBUG=VIPS shows it)."""
    flags = pyvips.GLogLevelFlags
    if pyvips._log_handler_id:
        pyvips.glib_lib.g_log_remove_handler(b"VIPS", pyvips._log_handler_id)
    pyvips._log_handler_id = pyvips.glib_lib.g_log_set_handler(
        b"VIPS",
        flags.LEVEL_WARNING
        | flags.LEVEL_CRITICAL
        | flags.LEVEL_ERROR
        | flags.FLAG_FATAL
        | flags.FLAG_RECURSION,
        pyvips._log_handler_cb,
        pyvips.ffi.NULL,
    )


_log_only_warnings()


def set_threads(threads: int) -> None:
    """libvips worker threads per image, for the whole process."""
    pyvips.concurrency_set(max(1, threads))


# A truncated file fails to decode instead of being padded with grey (libvips' default is to
# warn and carry on), so that damage is never served as an image.
FAIL_ON = "truncated"


def load(loader: str, data: bytes, *args: Any, **options: Any) -> pyvips.Image:
    """`pyvips.Image.<loader>_source` (thumbnail, jpegload...) reading `data` where it lies.

    The `_buffer` forms copy the whole original into libvips first, once per load: a copy of
    every original held beside it while it is worked on, its pages faulted in afresh. The
    image keeps `data` alive for as long as its pixels may be read. For bytes `probe` has
    accepted only: source loaders include libvips' own formats, which buffers do not.
    """
    source = pyvips.Source.new_from_memory(data)
    image = getattr(pyvips.Image, f"{loader}_source")(source, *args, **options)
    image._references.append(source)  # as new_from_source: passed on to every image made
    return image


def load_options(*, all_pages: bool = False) -> str:
    """The loader option string for untrusted bytes (FAIL_ON)."""
    options = [f"fail_on={FAIL_ON}"]
    if all_pages:
        options.append("n=-1")
    return ",".join(options)


def error_detail(error: pyvips.Error) -> str:
    """The most telling line of a libvips error: its cause, not "unable to call …"."""
    lines = [line.strip() for line in str(error).splitlines()]
    causes = [line for line in lines if line and not line.startswith("unable to call")]
    return causes[0] if causes else (lines[0] if lines else "unknown libvips error")
