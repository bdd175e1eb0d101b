"""What a request's headers say about its client: accepted formats, width, connection speed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from focal.options.model import MAX_SIDE
from focal.pipeline.encode import accepts

MOBILE_WIDTH = 768
DESKTOP_WIDTH = 1200
WIDTH_BREAKPOINTS = (320, 768, 960, 1200)
SLOW_CONNECTIONS = ("slow-2g", "2g", "3g")


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None  # "inf" is no width a client can have


@dataclass(frozen=True)
class ClientHints:
    accept: str = ""
    width: float | None = None  # Sec-CH-Width / Width: the layout width in device pixels
    viewport_width: float | None = None
    mobile: bool = False
    save_data: bool = False
    rtt: float | None = None
    ect: str | None = None
    downlink: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ClientHints:
        """`headers` with lower-case names."""
        user_agent = headers.get("user-agent", "")
        mobile_hint = headers.get("sec-ch-ua-mobile")
        return cls(
            accept=headers.get("accept", ""),
            width=_number(headers.get("sec-ch-width") or headers.get("width")),
            viewport_width=_number(
                headers.get("sec-ch-viewport-width") or headers.get("viewport-width")
            ),
            mobile=mobile_hint == "?1" if mobile_hint else "Mobi" in user_agent,
            save_data=headers.get("save-data", "").strip().lower() == "on",
            rtt=_number(headers.get("rtt")),
            ect=(headers.get("ect") or "").strip().lower() or None,
            downlink=_number(headers.get("downlink")),
        )

    def auto_width(self) -> int:
        """width=auto: the client's own width hint, else a breakpoint for its kind of screen."""
        hinted = self.width or self.viewport_width
        if hinted and hinted > 0:
            for breakpoint in WIDTH_BREAKPOINTS:
                if hinted <= breakpoint:
                    return breakpoint
            return min(int(hinted + 0.5), MAX_SIDE)  # the largest width option
        return MOBILE_WIDTH if self.mobile else DESKTOP_WIDTH

    def slow_connection(self) -> bool:
        return (
            self.save_data
            or (self.rtt is not None and self.rtt > 150)
            or self.ect in SLOW_CONNECTIONS
            or (self.downlink is not None and self.downlink < 5)
        )

    def format_class(self) -> str:
        """Which format=auto answer this client gets; part of the variant's identity."""
        if accepts(self.accept, "image/avif"):
            return "avif"
        if accepts(self.accept, "image/webp"):
            return "webp"
        return "legacy"
