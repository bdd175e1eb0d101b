"""Encoded results in a blob store shared by a fleet of servers: a variant one server made is
found by the others, so each is made once for the fleet rather than once per server.

Entries live at `<prefix>/<key[:2]>/<key>`, in the format of the local result cache. There is
no size bound here: the bucket's lifecycle rule (say, expire objects after 30 days) bounds it.
A key includes the source's fingerprint, so the variants of a replaced or deleted original are
never found again and simply expire.

The store is only ever a shortcut: a miss, a damaged entry or a store that is down costs the
time to make the variant again, never the answer, so backend errors are logged and swallowed.
Every call to a bucket fails fast for the same reason (`SHARED_S3_DEFAULTS`), and a store that
can't even be opened leaves the server running without it.
Methods are synchronous and thread-safe: callers use asyncio.to_thread.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from focal.service.result_cache import CachedResult, decode_result, encode_result
from focal.storage.base import BlobNotFound, BlobStore
from focal.storage.keys import validate_key
from focal.storage.url import open_blob_store

log = logging.getLogger(__name__)


# What a backend raises when it can't do its job: a folder's OSError, or obstore's errors
# (network, credentials, a missing bucket) from the S3 store. Looked up when a failure is
# caught: a server without an S3 store never loads obstore.
@functools.cache
def _backend_errors() -> tuple[type[Exception], ...]:
    try:  # without the s3 extra no store can raise obstore's errors
        from obstore.exceptions import BaseError
    except ModuleNotFoundError:
        return (OSError,)
    return (OSError, BaseError)


# For an s3:// URL that doesn't set them: one retry, and 2 s per attempt (to connect and for
# the whole request), so a store that is down costs a request about 0.1 s if the connection
# is refused and at most 4 s if nothing answers, where obstore's defaults (10 retries with
# back-off, 30 s per request) cost 2 to 11 s, or minutes.
SHARED_S3_DEFAULTS = {"max_retries": "1", "timeout": "2s"}


def _reason(error: Exception) -> str:
    # obstore appends a many-line debug dump; the first line says what went wrong.
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


class SharedResults:
    """Results by `result_key` in a blob store; owns the store and closes it in `close`.

    Every `get` is a hit or a miss; `errors` counts the backend failures of any call (a failed
    `get` is also a miss).
    """

    def __init__(self, blobs: BlobStore, prefix: str = "results") -> None:
        self.blobs = blobs
        self.prefix = validate_key(prefix)
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._lock = threading.Lock()

    def _blob_key(self, key: str) -> str:
        return f"{self.prefix}/{key[:2]}/{key}"

    def _count(self, *, hit: bool = False, miss: bool = False, error: bool = False) -> None:
        with self._lock:
            self.hits += hit
            self.misses += miss
            self.errors += error

    def get(self, key: str) -> CachedResult | None:
        blob_key = self._blob_key(key)
        try:
            data = self.blobs.get(blob_key)
        except BlobNotFound:
            self._count(miss=True)
            return None
        except _backend_errors() as error:
            log.warning("shared results: reading %s failed: %s", blob_key, _reason(error))
            self._count(miss=True, error=True)
            return None
        result = decode_result(data)
        if result is None:
            # Damaged or of another format: remove it so that the next put replaces it. At
            # worst this drops a good entry another server put meanwhile, which costs only time.
            self._count(miss=True)
            self._delete(blob_key)
            return None
        self._count(hit=True)
        return result

    def _delete(self, blob_key: str) -> None:
        try:
            self.blobs.delete(blob_key)
        except _backend_errors() as error:
            log.warning("shared results: deleting %s failed: %s", blob_key, _reason(error))
            self._count(error=True)

    def put(self, key: str, result: CachedResult) -> None:
        blob_key = self._blob_key(key)
        try:
            self.blobs.put(blob_key, encode_result(result))
        except _backend_errors() as error:
            log.warning("shared results: writing %s failed: %s", blob_key, _reason(error))
            self._count(error=True)

    def close(self) -> None:
        """Close the blob store, which this owns: open one per SharedResults."""
        self.blobs.close()


def open_shared_results(url: str, data_dir: Path) -> SharedResults | None:
    """The fleet's store at `url` (the `shared_results_url` setting), or None without one.

    A URL that is wrong raises ValueError: that is a mistake to fix before serving. A store
    that can't be opened (a file where its folder should be, a folder that can't be made) is
    logged, and the server runs without it until restarted: it costs speed, never the answer.
    """
    if not url:
        return None
    try:
        blobs = open_blob_store(url, data_dir, s3_defaults=SHARED_S3_DEFAULTS)
    except _backend_errors() as error:
        log.warning(
            "shared results: the store at %s can't be opened, so this server runs without it "
            "until restarted: %s",
            _safe_url(url),
            _reason(error),
        )
        return None
    return SharedResults(blobs)


def _safe_url(url: str) -> str:
    """The URL without its query, which may hold credentials."""
    return url.partition("?")[0]
