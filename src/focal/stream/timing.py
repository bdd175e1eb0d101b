"""Times and durations in playback URLs: `600s`, `3m`, `1h`, or plain seconds."""

from __future__ import annotations

import re

from focal.errors import ErrorKind, FocalError

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(s|m|h)?")
_UNITS = {"s": 1, "m": 60, "h": 3600, None: 1}


def parse_seconds(text: str | None, name: str) -> float:
    """`30s`, `3m`, `1h`, `1.5m` or `90` as seconds; a 400 naming the parameter otherwise."""
    if text is None or text == "":
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"{name} is required, as in {name}=30s or {name}=3m"
        )
    found = _AMOUNT.fullmatch(text.strip().lower())
    if found is None:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"{name}={text!r} is not a time: give seconds, minutes or hours, as in 30s, 3m or 1h",
        )
    return float(found[1]) * _UNITS[found[2]]
