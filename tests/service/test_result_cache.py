"""The result cache on its own: a size-bounded LRU of files under a real temporary folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from focal.service.result_cache import CachedResult, ResultCache, result_key


def entry(size: int, fill: bytes = b"x") -> CachedResult:
    return CachedResult(fill * size, "image/webp", {"Focal-Gravity": "face; faces=1; from=cache"})


def files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def disk_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in files(folder))


def test_round_trip_and_stats(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    key = result_key("file:1:2:3\nwidth=100")
    assert cache.get(key) is None
    cache.put(key, entry(100))
    assert cache.get(key) == entry(100)
    assert (cache.hits, cache.misses, cache.evictions) == (1, 1, 0)
    assert cache.bytes == disk_bytes(tmp_path) > 100
    # <folder>/ab/cdef…
    (path,) = files(tmp_path)
    assert path.parent.name + path.name == key


def test_the_bound_is_never_exceeded_and_the_least_recently_used_goes_first(
    tmp_path: Path,
) -> None:
    cache = ResultCache(tmp_path, 3_000)
    keys = [result_key(f"variant {n}") for n in range(4)]
    for key in keys[:3]:
        cache.put(key, entry(800))
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[3], entry(800))
    assert cache.bytes <= 3_000 and disk_bytes(tmp_path) == cache.bytes
    assert cache.get(keys[1]) is None  # the least recently used went
    assert all(cache.get(key) is not None for key in (keys[0], keys[2], keys[3]))
    assert cache.evictions == 1
    for n in range(50):
        cache.put(result_key(f"more {n}"), entry(100 + 37 * n))
        assert cache.bytes <= 3_000 and disk_bytes(tmp_path) == cache.bytes
    cache.put(result_key("too big"), entry(5_000))  # larger than the bound: not kept
    assert cache.get(result_key("too big")) is None
    assert cache.bytes <= 3_000


def test_concurrent_puts_keep_the_bound(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 20_000)

    def put_many(thread: int) -> None:
        for n in range(40):
            cache.put(result_key(f"{thread}/{n}"), entry(500 + n))

    threads = [threading.Thread(target=put_many, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.bytes <= 20_000
    assert disk_bytes(tmp_path) == cache.bytes
    assert len(files(tmp_path)) == len(cache)


def test_writes_are_atomic_and_leftovers_are_cleaned(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    key = result_key("replaced")
    cache.put(key, entry(100, b"a"))
    cache.put(key, entry(200, b"b"))  # replaces the file by rename, never writes into it
    assert cache.get(key) == entry(200, b"b")
    assert len(files(tmp_path)) == 1 and cache.bytes == disk_bytes(tmp_path)
    # A crash mid-write leaves a temporary file and maybe a torn entry: neither is served.
    (tmp_path / key[:2] / f".tmp-{key[2:]}.dead").write_bytes(b"partial")
    torn = result_key("torn")
    cache.put(torn, entry(300))
    path = tmp_path / torn[:2] / torn[2:]
    path.write_bytes(path.read_bytes()[:-10])
    reopened = ResultCache(tmp_path, 10_000)
    assert not [path for path in files(tmp_path) if path.name.startswith(".tmp-")]
    assert reopened.get(torn) is None
    assert not path.exists() and reopened.bytes == disk_bytes(tmp_path)


def test_a_restart_rebuilds_the_index_in_recency_order(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    keys = [result_key(f"v{n}") for n in range(3)]
    for n, key in enumerate(keys):
        cache.put(key, entry(1_000))
        path = tmp_path / key[:2] / key[2:]
        os.utime(path, ns=(n * 10**9, n * 10**9))  # v0 oldest
    os.utime(tmp_path / keys[0][:2] / keys[0][2:])  # v0 just used: now the newest
    reopened = ResultCache(tmp_path, 10_000)
    assert len(reopened) == 3 and reopened.bytes == cache.bytes
    # A lower bound at start evicts the least recently used: v1, then v2.
    smaller = ResultCache(tmp_path, 2_100)
    assert smaller.bytes <= 2_100 and disk_bytes(tmp_path) == smaller.bytes
    assert smaller.get(keys[1]) is None
    assert smaller.get(keys[0]) is not None


def test_a_bound_lowered_below_an_entry_removes_that_entry_at_start(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    big, small = result_key("big"), result_key("small")
    cache.put(big, entry(3_000))
    cache.put(small, entry(100))
    smaller = ResultCache(tmp_path, 1_000)  # the big entry alone is over the new bound
    assert len(smaller) == 1 and smaller.evictions == 1
    assert not (tmp_path / big[:2] / big[2:]).exists()
    assert smaller.get(small) == entry(100)
    assert smaller.bytes == disk_bytes(tmp_path)


def test_replacing_an_entry_with_a_larger_one_keeps_the_bound(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 3_000)
    first, second = result_key("first"), result_key("second")
    cache.put(first, entry(1_000))
    cache.put(second, entry(1_000))
    cache.put(first, entry(2_500))  # grows: the other entry must go, not this one's new file
    assert cache.get(first) == entry(2_500)
    assert cache.get(second) is None
    assert cache.bytes <= 3_000 and cache.bytes == disk_bytes(tmp_path)
    assert len(files(tmp_path)) == len(cache) == 1


# --- several server processes on one folder (FOCAL_WORKERS) ---------------------------------
# Each ResultCache below stands for one process: a share's lock is per open file, so two
# caches in one process contend for shares as two processes do.


def test_processes_split_the_bound_and_read_each_others_results(tmp_path: Path) -> None:
    first, second = ResultCache(tmp_path, 4_000, shares=2), ResultCache(tmp_path, 4_000, shares=2)
    try:
        assert {first.folder.name, second.folder.name} == {"share-0", "share-1"}
        assert first.max_bytes == second.max_bytes == 2_000
        made = result_key("made by the first")
        first.put(made, entry(300))
        assert second.get(made) == entry(300)  # a hit: no second transformation
        assert (second.hits, second.misses) == (1, 0)
        for n in range(40):
            (first if n % 2 else second).put(result_key(f"variant {n}"), entry(250 + 11 * n))
            assert first.bytes <= 2_000 and second.bytes <= 2_000
            assert disk_bytes(tmp_path) - lock_bytes(tmp_path) <= 4_000
        assert first.bytes == disk_bytes(first.folder) and second.bytes == disk_bytes(second.folder)
    finally:
        first.close()
        second.close()


def lock_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("share-*.lock"))


def test_a_process_beyond_the_shares_only_reads(tmp_path: Path) -> None:
    caches = [ResultCache(tmp_path, 4_000, shares=2) for _ in range(2)]
    late = ResultCache(tmp_path, 4_000, shares=2)  # one still exiting while its successor starts
    try:
        key = result_key("made before")
        caches[0].put(key, entry(100))
        assert late.get(key) == entry(100)
        late.put(result_key("not kept"), entry(100))
        assert late.get(result_key("not kept")) is None and late.bytes == 0
    finally:
        for cache in (*caches, late):
            cache.close()


def test_a_released_share_is_taken_again_with_its_entries(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 4_000, shares=2)
    key = result_key("kept across a restart")
    cache.put(key, entry(100))
    share = cache.folder
    cache.close()  # the process exits
    again = ResultCache(tmp_path, 4_000, shares=2)
    try:
        assert again.folder == share and again.get(key) == entry(100)
    finally:
        again.close()


def test_changing_the_number_of_processes_leaves_no_entry_outside_the_bound(
    tmp_path: Path,
) -> None:
    single = ResultCache(tmp_path, 4_000)
    single.put(result_key("one process"), entry(1_000))
    several = [ResultCache(tmp_path, 4_000, shares=2) for _ in range(2)]
    several[0].put(result_key("two processes"), entry(1_000))
    # The single process's entries are gone; the shares hold what they count.
    assert disk_bytes(tmp_path) - lock_bytes(tmp_path) == sum(cache.bytes for cache in several)
    held = several[1]
    several[0].close()
    back = ResultCache(tmp_path, 4_000)  # one process again; share-1 is still held
    assert not (tmp_path / "share-0").exists() and (tmp_path / "share-1").exists()
    held.close()
    ResultCache(tmp_path, 4_000)
    assert not list(tmp_path.glob("share-*/*"))
    assert back.bytes == 0
