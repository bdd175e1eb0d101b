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
