"""Blob keys: the rules that make one key mean the same in a folder and in a bucket."""

from __future__ import annotations

import pytest

from focal.storage.keys import validate_key, validate_prefix

GOOD_KEYS = [
    "a",
    "images/2cdc28f0-017a-49c4-9ed7-87056c83901/original",
    "a..b",
    ".hidden/..dots../x",
    "sp ace/é/ü/漢字",
    "é" * 100 + "/x",  # a 200-byte segment
    "/".join(["s" * 200] * 5),  # 1004 bytes
]

BAD_KEYS = [
    "",
    "/abs",
    "..",
    "a/..",
    "../a",
    "a/./b",
    ".",
    "a//b",
    "a/",
    "a\x00b",
    "a\nb",
    "a\tb",
    "a\x7fb",
    "a\u2028b",  # a line separator
    "\ud800",  # a lone surrogate: no UTF-8 for it
    "x" * 1025,
    "/".join(["s" * 200] * 6),  # each segment fits, the whole is over 1024 bytes
    "s" * 201,  # a segment over 200 bytes
    ".focal-tmp-x",
    "images/.focal-tmp-original.0123",
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys(key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        validate_key(key)


def test_a_key_that_is_not_a_string() -> None:
    with pytest.raises(ValueError):
        validate_key(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["images/", "images/abc/", "images/ab", "a"])
def test_good_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "/", "//", "a//", "../", "a/../", "images/\x00/"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key prefix"):
        validate_prefix(prefix)
