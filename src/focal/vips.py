"""libvips as every Focal process uses it: safe loaders only, no operation cache.

Import this module before using pyvips.
"""

from __future__ import annotations

import pyvips

# Loaders that are not fuzzed for untrusted input (and libvips' own formats) are refused.
pyvips.block_untrusted_set(True)
# The operation cache would keep recent originals alive between requests: every request here
# works on different bytes, so the cache only costs memory.
pyvips.cache_set_max(0)


def set_threads(threads: int) -> None:
    """libvips worker threads per image, for the whole process."""
    pyvips.concurrency_set(max(1, threads))


def load_options(*, all_pages: bool = False) -> str:
    """The loader option string for untrusted bytes.

    A truncated file fails to decode instead of being padded with grey (libvips' default is
    to warn and carry on), so that damage is never served as an image.
    """
    options = ["fail_on=truncated"]
    if all_pages:
        options.append("n=-1")
    return ",".join(options)


def error_detail(error: pyvips.Error) -> str:
    """The most telling line of a libvips error: its cause, not "unable to call …"."""
    lines = [line.strip() for line in str(error).splitlines()]
    causes = [line for line in lines if line and not line.startswith("unable to call")]
    return causes[0] if causes else (lines[0] if lines else "unknown libvips error")
