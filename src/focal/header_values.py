"""Header values made from text (error messages, paths, URLs) that HTTP can always carry.

A CR or LF in a value lets a client split headers; servers refuse such a value and drop the
connection instead of answering. Non-ASCII text is not safely encodable either (Starlette
encodes latin-1, h11 accepts only visible ASCII), so it is %-escaped as UTF-8.
"""

from __future__ import annotations

import re
from urllib.parse import quote

HEADER_VALUE_MAX = 1024  # characters; a message longer than this is cut
_CONTROLS = re.compile(r"[\x00-\x20\x7f]+")  # controls and whitespace runs: one space
# Everything a URL may hold as written (reserved and unreserved characters, and '%' so that
# escapes already there stay as they are): all other characters are %-escaped.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def header_value(text: str, limit: int = HEADER_VALUE_MAX) -> str:
    """`text` as a valid header value: one line of visible ASCII, at most `limit` long."""
    line = _CONTROLS.sub(" ", text).strip()
    ascii_line = line if line.isascii() else "".join(c if c.isascii() else quote(c) for c in line)
    return ascii_line[:limit].rstrip()


def url_header_value(url: str, limit: int = 8 * HEADER_VALUE_MAX) -> str:
    """A URL or path as a header value (Location): what a URL cannot hold is %-escaped."""
    return header_value(quote(url, safe=_URL_SAFE), limit)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weakly compared, as GET is) or `*`."""
    candidates = [item.strip().removeprefix("W/") for item in if_none_match.split(",")]
    return "*" in candidates or etag in candidates
