"""Header values made from any text are valid HTTP: one line of visible ASCII, bounded."""

from __future__ import annotations

import re

import pytest

from focal.header_values import HEADER_VALUE_MAX, header_value, url_header_value

VALID = re.compile(r"[\x21-\x7e]+( [\x21-\x7e]+)*")  # field-content of RFC 9110, ASCII only


@pytest.mark.parametrize(
    "text",
    [
        "unable to call VipsForeignLoadNsgifBuffer\n  gifload_buffer: Unexpected end\n",
        "a\r\nSet-Cookie: x=1",
        "tab\there\x00nul\x7fdel\x1bescape",
        "café 😀 naïve",
        "x" * 10_000,
        "\n\n ok \n",
    ],
)
def test_any_text_becomes_a_valid_header_value(text: str) -> None:
    value = header_value(text)
    assert VALID.fullmatch(value), value
    assert len(value) <= HEADER_VALUE_MAX
    value.encode("latin-1")


def test_the_text_stays_readable() -> None:
    assert header_value("face detection failed:\n  bad data") == "face detection failed: bad data"
    assert header_value("café") == "caf%C3%A9"
    assert header_value("x" * 50, limit=10) == "x" * 10


def test_urls_are_escaped_not_mangled() -> None:
    assert url_header_value("/originals/grace hopper 😀.jpg") == (
        "/originals/grace%20hopper%20%F0%9F%98%80.jpg"
    )
    # what a URL may hold, escapes included, stays as written
    url = "https://example.com/a%20b/c.jpg?w=1&x=[1]#top"
    assert url_header_value(url) == url
    assert url_header_value("/a\r\nLocation: evil") == "/a%0D%0ALocation:%20evil"
