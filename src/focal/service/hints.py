"""What a request's headers say about its client: accepted formats, width, connection speed.

Everything a response takes from its client is decided here, once: the format format=auto
stands for, the width width=auto stands for, the quality on a slow connection, and what these
add to the variant's identity and to `Vary`. The pipeline sees none of the headers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from focal.options import AUTO, Options
from focal.options.model import MAX_SIDE
from focal.pipeline.encode import JPEG_OR_PNG

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


def accepts(accept: str, media_type: str) -> bool:
    """Whether an Accept header names `media_type` explicitly with a non-zero q."""
    for item in accept.lower().split(","):
        kind, _, params = item.strip().partition(";")
        if kind.strip() != media_type:
            continue
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


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

    def negotiated_format(self, *, animated: bool) -> str:
        """What format=auto writes for this client: AVIF, WebP, else what every browser shows
        (GIF for an animation, JPEG or PNG for a still)."""
        if animated:
            return "webp" if accepts(self.accept, "image/webp") else "gif"
        chosen = self.format_class()
        return JPEG_OR_PNG if chosen == "legacy" else chosen


@dataclass(frozen=True)
class _ClientFact:
    """One thing a response may take from its client: when, its identity part, its headers."""

    applies: Callable[[Options], bool]
    identity: Callable[[ClientHints], str]
    headers: tuple[str, ...]


_CLIENT_FACTS = (
    _ClientFact(
        lambda options: options.format == "auto",
        lambda hints: "accept=" + hints.format_class(),
        ("Accept",),
    ),
    _ClientFact(
        lambda options: options.width == AUTO,
        lambda hints: f"width={hints.auto_width()}",
        ("Sec-CH-Width", "Width", "Sec-CH-Viewport-Width", "Sec-CH-UA-Mobile"),
    ),
    _ClientFact(
        lambda options: options.slow_connection_quality is not None,
        lambda hints: f"slow={hints.slow_connection()}",
        ("Save-Data", "ECT", "RTT", "Downlink"),
    ),
)


def client_identity(options: Options, hints: ClientHints) -> list[str]:
    """The client facts the response to `options` depends on, as parts of its identity."""
    return [fact.identity(hints) for fact in _CLIENT_FACTS if fact.applies(options)]


def client_headers(options: Options) -> list[str]:
    """The request headers the response to `options` depends on (its `Vary`)."""
    return [name for fact in _CLIENT_FACTS if fact.applies(options) for name in fact.headers]


def for_client(options: Options, hints: ClientHints) -> Options:
    """Options with width=auto replaced by the width chosen for this client."""
    if options.width == AUTO:
        return dataclasses.replace(options, width=hints.auto_width())
    return options
