"""The BlobStore contract, run against every backend: they must be indistinguishable."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from focal.storage import BlobNotFound, BlobStore, LocalBlobStore

KEYS = [
    "a",
    "images/abc123/original",
    "images/abc123/variants/w=100,h=100,fit=crop",
    "dir/sp ace+plus%25é ü.jpg",
    "x/y~!@$&'()*,;=:.z",
    "a..b/.hidden",
]


def payload(seed: str, size: int) -> bytes:
    """size bytes that differ for every seed and at every offset."""
    block = hashlib.sha256(seed.encode()).digest() * 32
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize("key", KEYS)
def test_round_trip(store: BlobStore, key: str) -> None:
    data = payload(key, 10_000)
    assert not store.exists(key)
    store.put(key, data)
    assert store.get(key) == data
    assert store.exists(key)


def test_empty_blob(store: BlobStore) -> None:
    store.put("empty", b"")
    assert store.get("empty") == b""
    assert store.exists("empty")


def test_overwrite_replaces_the_whole_blob(store: BlobStore) -> None:
    store.put("k", payload("long", 50_000))
    store.put("k", b"short")
    assert store.get("k") == b"short"


def test_missing_blob(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound) as caught:
        store.get("images/nope/original")
    assert caught.value.key == "images/nope/original"
    assert not store.exists("images/nope/original")


def test_a_folder_of_blobs_is_not_a_blob(store: BlobStore) -> None:
    store.put("images/x/original", b"data")
    assert not store.exists("images/x")
    with pytest.raises(BlobNotFound):
        store.get("images/x")
    with pytest.raises(BlobNotFound):
        store.get("images/x/original/more")


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.put("images/x/original", b"data")
    store.put("images/x/other", b"other")
    store.delete("images/x/original")
    assert not store.exists("images/x/original")
    with pytest.raises(BlobNotFound):
        store.get("images/x/original")
    store.delete("images/x/original")
    store.delete("never/was")
    store.delete("images/x")  # a folder of blobs is not a blob: nothing happens
    assert store.get("images/x/other") == b"other"


def test_put_after_delete(store: BlobStore) -> None:
    store.put("images/x/original", b"one")
    store.delete("images/x/original")
    store.put("images/x/original", b"two")
    assert store.get("images/x/original") == b"two"


def test_delete_prefix(store: BlobStore) -> None:
    keys = [
        "images/a/original",
        "images/a/variants/thumb",
        "images/a/variants/large",
        "images/ab/original",
        "images/b/original",
        "imagesX",
        "other",
    ]
    for key in keys:
        store.put(key, key.encode())

    assert store.delete_prefix("images/a/") == 3
    assert [key for key in keys if store.exists(key)] == keys[3:]

    assert store.delete_prefix("images/a/") == 0
    assert store.delete_prefix("nothing/here/") == 0
    # A plain string prefix, as in S3: without the '/', "images/a" also matches "images/ab".
    assert store.delete_prefix("images/a") == 1
    assert store.delete_prefix("images") == 2
    assert [key for key in keys if store.exists(key)] == ["other"]
    assert store.get("other") == b"other"

    store.put("images/a/original", b"again")
    assert store.get("images/a/original") == b"again"


def test_delete_prefix_of_many_blobs(store: BlobStore) -> None:
    for index in range(120):
        store.put(f"cache/{index % 7}/{index}", b"x")
    store.put("cachet", b"kept")
    assert store.delete_prefix("cache/") == 120
    assert not store.exists("cache/0/0")
    assert store.get("cachet") == b"kept"


def test_a_key_under_a_blob_is_a_limit_of_the_backend_never_a_bad_key(store: BlobStore) -> None:
    """A bucket holds both `c` and `c/d`; a folder can't. It says so with OSError, as for any
    call it can't do, never with ValueError, which means that the key itself is wrong."""
    store.put("c", b"file")
    store.put("a/b", b"inside")
    for key in ("c/d", "a"):
        try:
            store.put(key, b"both")
        except OSError:
            assert isinstance(store, LocalBlobStore)
        else:
            assert store.get(key) == b"both"
    assert store.get("c") == b"file"
    assert store.get("a/b") == b"inside"


BAD_KEYS = ["", "/abs", "../up", "a/../b", "a/./b", "a//b", "a/", "nul\x00", "new\nline", "é" * 513]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"data")
    with pytest.raises(ValueError):
        store.get(key)
    with pytest.raises(ValueError):
        store.exists(key)
    with pytest.raises(ValueError):
        store.delete(key)


@pytest.mark.parametrize("prefix", ["", "/", "../", "a//", "a/../"])
def test_bad_prefixes_are_refused(store: BlobStore, prefix: str) -> None:
    store.put("a/b", b"kept")
    with pytest.raises(ValueError):
        store.delete_prefix(prefix)
    assert store.get("a/b") == b"kept"


def test_readers_see_one_whole_blob_or_the_other(store: BlobStore) -> None:
    # Above 5 MB obstore uploads in parts, so the S3 case covers multipart puts too.
    size, writes = (16_000_000, 24) if isinstance(store, LocalBlobStore) else (6_000_000, 6)
    first, second = payload("first", size), payload("second", size)
    store.put("image", first)
    done = threading.Event()
    reads = 0
    wrong: list[int] = []  # sizes of anything read that is neither payload

    def read() -> None:
        nonlocal reads
        while not done.is_set():
            data = store.get("image")
            reads += 1
            if data != first and data != second:
                wrong.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(writes):
            store.put("image", second if index % 2 == 0 else first)
    finally:
        done.set()
        reader.join()
    assert reads > 0, "the reader never read"
    assert wrong == [], "a reader saw a blob that was never put"
    assert store.get("image") == (second if writes % 2 == 1 else first)


def test_concurrent_puts_of_distinct_keys(store: BlobStore) -> None:
    keys = [f"uploads/{index % 5}/{index}" for index in range(50)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: store.put(key, payload(key, 200_000)), keys))
    for key in keys:
        assert store.get(key) == payload(key, 200_000)
