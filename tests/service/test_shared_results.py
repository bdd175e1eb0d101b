"""The fleet's shared result store on a real folder; on a real bucket in
tests/storage/test_shared_results_s3.py."""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from focal.service.result_cache import CachedResult, encode_result, result_key
from focal.service.shared_results import SharedResults, open_shared_results
from focal.storage import LocalBlobStore

RESULT = CachedResult(b"\x00webp body\xff", "image/webp", {"Focal-Gravity": "face; faces=2"})
KEY = result_key("file:1:2:3\nwidth=100")


def test_round_trip_with_headers(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    shared = SharedResults(blobs)
    shared.put(KEY, RESULT)
    assert shared.get(KEY) == RESULT
    assert (shared.hits, shared.misses, shared.errors) == (1, 0, 0)
    # <prefix>/ab/abcdef…, in the local result cache's format
    assert blobs.get(f"results/{KEY[:2]}/{KEY}") == encode_result(RESULT)


def test_a_missing_entry_is_a_miss(tmp_path: Path) -> None:
    shared = SharedResults(LocalBlobStore(tmp_path))
    assert shared.get(KEY) is None
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 0)


def test_a_torn_entry_is_a_miss_and_is_deleted(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    shared = SharedResults(blobs, prefix="fleet/results")
    shared.put(KEY, RESULT)
    blob_key = f"fleet/results/{KEY[:2]}/{KEY}"
    blobs.put(blob_key, encode_result(RESULT)[:-1])
    assert shared.get(KEY) is None
    assert not blobs.exists(blob_key)
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 0)
    shared.put(KEY, RESULT)  # made again, and found again
    assert shared.get(KEY) == RESULT


def test_servers_of_a_fleet_find_each_others_results(tmp_path: Path) -> None:
    one = SharedResults(LocalBlobStore(tmp_path))
    two = SharedResults(LocalBlobStore(tmp_path))
    one.put(KEY, RESULT)
    assert two.get(KEY) == RESULT
    replaced = CachedResult(b"other", "image/avif")
    two.put(KEY, replaced)
    assert one.get(KEY) == replaced
    assert one.get(result_key("another identity")) is None


def test_prefixes_keep_stores_apart(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    SharedResults(blobs, prefix="a").put(KEY, RESULT)
    assert SharedResults(blobs, prefix="b").get(KEY) is None


def test_an_invalid_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SharedResults(LocalBlobStore(tmp_path), prefix="results/")


class BrokenStore:
    """A BlobStore whose disk is gone: every call raises OSError."""

    closed = False

    def put(self, key: str, data: bytes) -> None:
        raise OSError(5, "Input/output error")

    def get(self, key: str) -> bytes:
        raise OSError(5, "Input/output error")

    def delete(self, key: str) -> None:
        raise OSError(5, "Input/output error")

    def exists(self, key: str) -> bool:
        raise OSError(5, "Input/output error")

    def delete_prefix(self, prefix: str) -> int:
        raise OSError(5, "Input/output error")

    def close(self) -> None:
        self.closed = True


def test_a_failing_store_costs_a_miss_never_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = SharedResults(BrokenStore())
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        shared.put(KEY, RESULT)
        assert shared.get(KEY) is None
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 2)
    assert [record.levelname for record in caplog.records] == ["WARNING", "WARNING"]
    assert "Input/output error" in caplog.text


def test_close_closes_the_store_it_owns() -> None:
    store = BrokenStore()
    SharedResults(store).close()
    assert store.closed


def test_counters_add_up_across_threads(tmp_path: Path) -> None:
    shared = SharedResults(LocalBlobStore(tmp_path))
    keys = [result_key(str(number)) for number in range(20)]
    for key in keys[::2]:
        shared.put(key, RESULT)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(shared.get, keys * 5))
    assert sum(result == RESULT for result in found) == shared.hits == 50
    assert shared.misses == 50


def test_a_file_in_the_way_of_the_stores_folder_costs_a_miss_never_an_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Opened while its folder was there; then a regular file takes the folder's place.
    root = tmp_path / "shared"
    shared = SharedResults(LocalBlobStore(root))
    shared.put(KEY, RESULT)
    shutil.rmtree(root)
    root.write_bytes(b"not a folder")
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        assert shared.get(KEY) is None  # not a plain miss: the store is broken
        shared.put(KEY, RESULT)
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 2)
    assert caplog.text.count("NotADirectoryError") == 2
    assert "the store's folder is a file, not a folder" in caplog.text


def test_a_file_in_the_way_of_a_folder_in_the_store_costs_a_miss_never_an_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blobs = LocalBlobStore(tmp_path)
    shared = SharedResults(blobs)
    (tmp_path / "results").write_bytes(b"a file where the results' folder should be")
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        # Nothing is stored under the key: a plain miss, as a bucket would answer.
        assert shared.get(KEY) is None
        assert shared.errors == 0
        shared.put(KEY, RESULT)  # but it can't be stored: that is an error
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 1)
    assert "NotADirectoryError" in caplog.text
    assert "is a blob here" in caplog.text

    (tmp_path / "results").unlink()  # repaired: shared again
    shared.put(KEY, RESULT)
    assert shared.get(KEY) == RESULT


def test_a_folder_in_the_way_of_an_entry_costs_a_miss_never_an_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = SharedResults(LocalBlobStore(tmp_path))
    (tmp_path / "results" / KEY[:2] / KEY / "stray").mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        assert shared.get(KEY) is None
        shared.put(KEY, RESULT)
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 1)
    assert "IsADirectoryError" in caplog.text


def test_open_shared_results(tmp_path: Path) -> None:
    assert open_shared_results("", tmp_path) is None  # not configured
    shared = open_shared_results(f"file://{tmp_path}/fleet", tmp_path / "data")
    assert shared is not None
    assert isinstance(shared.blobs, LocalBlobStore)
    assert shared.blobs.root == tmp_path / "fleet"
    shared.put(KEY, RESULT)
    assert shared.get(KEY) == RESULT
    shared.close()


@pytest.mark.parametrize("in_the_way", ["the folder", "a folder above it"])
def test_a_store_that_cannot_be_opened_leaves_the_server_without_it(
    in_the_way: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    place = tmp_path / "fleet"
    place.write_bytes(b"a regular file")
    url = f"file://{place}" if in_the_way == "the folder" else f"file://{place}/results"
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        assert open_shared_results(url, tmp_path / "data") is None
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "runs without it until restarted" in record.getMessage()
    assert "NotADirectoryError" in record.getMessage()
    assert place.read_bytes() == b"a regular file"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/results",
        "file:relative/results",
        "s3://bucket/results?bogus=1",
        "s3://bucket/results?max_retries=many",
        "s3://bucket/results?timeout=2",
    ],
)
def test_a_wrong_url_stops_the_server(url: str, tmp_path: Path) -> None:
    # A mistake in the configuration, not a store that is down: said at start-up.
    with pytest.raises(ValueError):
        open_shared_results(url, tmp_path)
