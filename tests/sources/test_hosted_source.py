"""A hosted image as a source: fingerprinted by the catalog's hash, read from the blob store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from focal.errors import ErrorKind, FocalError
from focal.sources.base import Source
from focal.sources.hosted import HostedSource
from focal.storage import LocalBlobStore


def test_the_fingerprint_needs_no_read_and_the_bytes_come_from_the_blob_store(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.put("images/f/abc", b"original bytes")
    source: Source = HostedSource("cat", "abc", "images/f/abc", blobs)
    assert source.name == "hosted:cat"
    assert source.fingerprint == "hosted:cat:abc"
    assert source.original_url == "/images/cat/public"
    assert not source.in_memory
    assert asyncio.run(source.read()) == b"original bytes"
    read = source.blocking_read()
    assert read is not None and read() == b"original bytes"


def test_a_missing_blob_is_a_404_that_names_the_image(tmp_path: Path) -> None:
    source = HostedSource("gone", "abc", "images/f/abc", LocalBlobStore(tmp_path / "blobs"))
    with pytest.raises(FocalError) as caught:
        asyncio.run(source.read())
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert "'gone'" in caught.value.message
    with pytest.raises(FocalError) as blocking:
        source.blocking_read()()
    assert blocking.value.message == caught.value.message
