"""What a client's headers decide: the format format=auto stands for, the width width=auto
stands for, the slow-connection quality, and what each adds to a variant's identity and Vary.

The negotiation runs on real images through `transform`, the service's one transformation.
"""

from __future__ import annotations

import pytest

from focal.options import parse_options
from focal.pipeline import Limits, Output
from focal.pipeline.encode import JPEG_OR_PNG
from focal.service.hints import (
    ClientHints,
    accepts,
    client_headers,
    client_identity,
    for_client,
)
from focal.service.transform import transform
from imaging import animated, coloured_frames
from url_form import half_transparent, magic_format


def apply(data: bytes, text: str, accept: str) -> Output:
    """URL-form options for a client that sends this Accept header."""
    result = transform(data, parse_options(text), ClientHints(accept=accept), Limits())
    assert isinstance(result, Output)
    return result



CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


@pytest.mark.parametrize(
    ("accept", "opaque", "transparent"),
    [
        (CHROME, "avif", "avif"),
        ("image/avif,image/webp,*/*", "avif", "avif"),
        (SAFARI, "webp", "webp"),
        ("*/*", "jpeg", "png"),
        ("", "jpeg", "png"),
        ("image/avif;q=0,image/webp", "webp", "webp"),
    ],
)
def test_format_auto_negotiates_from_accept(
    photo, accept: str, opaque: str, transparent: str
) -> None:
    result = apply(photo("rocket"), "width=100,format=auto", accept)
    assert result.format == opaque and magic_format(result.data) == opaque
    alpha = apply(half_transparent(), "width=100,format=auto", accept)
    assert alpha.format == transparent and magic_format(alpha.data) == transparent
    # an opaque background removes the alpha: JPEG is fine again
    flat = apply(half_transparent(), "width=100,format=auto,background=white", accept)
    assert flat.format == opaque


def test_format_auto_keeps_an_animation_moving_in_what_the_client_shows() -> None:
    moving = animated(coloured_frames(30, 20, 3))
    webp = apply(moving, "format=auto", "image/avif,image/webp,*/*")
    assert (webp.format, webp.pages) == ("webp", 3)
    gif = apply(moving, "format=auto", "image/avif,*/*")
    assert (gif.format, gif.pages) == ("gif", 3)
    still = apply(moving, "format=auto,anim=false", "image/avif,*/*")
    assert (still.format, still.pages) == ("avif", 1)


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        ("image/avif,image/webp", "image/avif", True),
        ("IMAGE/WEBP", "image/webp", True),
        ("image/webp;q=0.5", "image/webp", True),
        ("image/webp;q=0", "image/webp", False),
        ("image/webp;q=zero", "image/webp", False),
        ("image/*,*/*", "image/webp", False),  # only an explicit name counts
        ("", "image/avif", False),
    ],
)
def test_accepts_needs_the_media_type_by_name_with_a_positive_q(
    accept: str, media_type: str, expected: bool
) -> None:
    assert accepts(accept, media_type) is expected


@pytest.mark.parametrize(
    ("accept", "still", "moving"),
    [
        ("image/avif,image/webp,*/*", "avif", "webp"),
        ("image/webp,*/*", "webp", "webp"),
        ("image/avif,*/*", "avif", "gif"),
        ("*/*", JPEG_OR_PNG, "gif"),
    ],
)
def test_negotiated_format_is_a_format_the_pipeline_writes(
    accept: str, still: str, moving: str
) -> None:
    hints = ClientHints(accept=accept)
    assert hints.negotiated_format(animated=False) == still
    assert hints.negotiated_format(animated=True) == moving


def test_headers_are_read_with_their_hints() -> None:
    hints = ClientHints.from_headers(
        {
            "accept": "image/webp",
            "sec-ch-width": "412.5",
            "sec-ch-viewport-width": "inf",
            "sec-ch-ua-mobile": "?1",
            "save-data": " ON ",
            "rtt": "50",
            "ect": "4G",
            "downlink": "10",
        }
    )
    assert hints == ClientHints(
        accept="image/webp",
        width=412.5,
        viewport_width=None,  # no width a client can have
        mobile=True,
        save_data=True,
        rtt=50.0,
        ect="4g",
        downlink=10.0,
    )
    assert ClientHints.from_headers({"user-agent": "Mozilla/5.0 (iPhone) Mobile/15E148"}).mobile


@pytest.mark.parametrize(
    ("hints", "width"),
    [
        (ClientHints(width=300), 320),
        (ClientHints(viewport_width=900), 960),
        (ClientHints(width=1500.4), 1500),
        (ClientHints(width=50_000), 12_000),
        (ClientHints(width=-5), 1200),
        (ClientHints(mobile=True), 768),
        (ClientHints(), 1200),
    ],
)
def test_auto_width_is_the_hint_rounded_up_to_a_breakpoint(hints: ClientHints, width: int) -> None:
    assert hints.auto_width() == width


@pytest.mark.parametrize(
    "hints",
    [
        ClientHints(save_data=True),
        ClientHints(rtt=151),
        ClientHints(ect="3g"),
        ClientHints(downlink=4.9),
    ],
)
def test_each_slow_connection_hint_counts(hints: ClientHints) -> None:
    assert hints.slow_connection()
    assert not ClientHints(rtt=150, ect="4g", downlink=5).slow_connection()


def test_width_auto_is_resolved_for_the_client_and_nothing_else_is() -> None:
    options = parse_options("width=auto,height=300")
    resolved = for_client(options, ClientHints(width=700))
    assert (resolved.width, resolved.height) == (768, 300)
    fixed = parse_options("width=400")
    assert for_client(fixed, ClientHints(width=700)) is fixed


def test_each_client_fact_adds_its_identity_and_its_vary_headers() -> None:
    hints = ClientHints(accept="image/webp", width=300, save_data=True)
    assert client_identity(parse_options("width=400"), hints) == []
    assert client_headers(parse_options("width=400")) == []
    every = parse_options("width=auto,format=auto,scq=20")
    assert client_identity(every, hints) == ["accept=webp", "width=320", "slow=True"]
    assert client_headers(every) == [
        "Accept",
        "Sec-CH-Width",
        "Width",
        "Sec-CH-Viewport-Width",
        "Sec-CH-UA-Mobile",
        "Save-Data",
        "ECT",
        "RTT",
        "Downlink",
    ]
