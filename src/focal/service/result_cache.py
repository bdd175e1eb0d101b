"""Encoded results on local disk: a size-bounded LRU, so a variant asked for twice is made once.

A key is the sha256 of a variant's identity (source fingerprint, canonical options, client
facts used): a replaced or deleted original has a new fingerprint, so its old variants are
never found again and simply age out. Files live at `<folder>/ab/cdef…`, written to a
temporary name and renamed, so a reader sees a whole entry or none. The index (sizes and
recency) is kept in memory, a cachetools LRU weighed in bytes whose evictions unlink their
files, and rebuilt from a scan at start, ordered by modification time, which `get`
refreshes. Methods are synchronous and thread-safe: callers use asyncio.to_thread.

Several server processes on one data folder (`focal serve --workers N`) split the bound: each
holds one share, `<folder>/share-<i>/`, claimed with a lock on `share-<i>.lock` for as long as
it runs, bounded by max_bytes / N, where it alone writes and evicts; it reads the others'
shares too, so a variant made by one process is a hit in all. The shares' bounds sum to the
whole bound, so the folder stays within it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import struct
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from cachetools import LRUCache

from focal.service.process_locks import lock_file

log = logging.getLogger(__name__)
_TEMPORARY = ".tmp-"  # no key starts with a dot: a leftover of a crash, removed by the scan
_HEADER = struct.Struct(">4sIQ")  # magic, metadata length, body length
_MAGIC = b"FRC1"


@dataclass(frozen=True)
class CachedResult:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)  # others to replay, e.g. gravity


def result_key(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()


def encode_result(result: CachedResult) -> bytes:
    meta = json.dumps({"content_type": result.content_type, "headers": result.headers}).encode()
    return _HEADER.pack(_MAGIC, len(meta), len(result.body)) + meta + result.body


def decode_result(data: bytes) -> CachedResult | None:
    """None for a file that is not a whole entry (a torn write after a power loss)."""
    if len(data) < _HEADER.size:
        return None
    magic, meta_length, body_length = _HEADER.unpack_from(data)
    if magic != _MAGIC or len(data) != _HEADER.size + meta_length + body_length:
        return None
    start = _HEADER.size + meta_length
    try:
        meta = json.loads(data[_HEADER.size : start])
        return CachedResult(data[start:], str(meta["content_type"]), dict(meta["headers"]))
    except (ValueError, KeyError, TypeError):
        return None


class _DiskIndex(LRUCache[str, int]):
    """Entry sizes by key, least recently used first, bounded in bytes: an eviction made to
    fit a new entry removes the evicted entry's file too."""

    def __init__(self, max_bytes: int, remove: Callable[[str], None]) -> None:
        super().__init__(max_bytes, getsizeof=_size_of)
        self._remove = remove
        self.evictions = 0

    def popitem(self) -> tuple[str, int]:
        key, size = super().popitem()
        self.evictions += 1
        self._remove(key)
        return key, size


def _size_of(size: int) -> int:
    return size


_SHARE = "share-"
_KEY_FOLDERS = "[0-9a-f][0-9a-f]"  # <folder>/ab/cdef…: a key's first two hex digits


class ResultCache:
    """`shares`: the server processes using `folder` (see the module's docstring)."""

    def __init__(self, folder: Path, max_bytes: int, *, shares: int = 1) -> None:
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._claim: int | None = None  # the open lock file holding this process's share
        self._others: list[Path] = []  # the other processes' shares, read on a miss
        if shares <= 1:
            self.folder = root
            _remove_unheld_shares(root)  # left by an earlier run of several processes
        else:
            self.folder = self._claim_share(root, shares)
            self._others = [
                root / f"{_SHARE}{index}"
                for index in range(shares)
                if root / f"{_SHARE}{index}" != self.folder
            ]
            if self.folder == root / f"{_SHARE}0":  # one process clears a single one's
                for legacy in root.glob(_KEY_FOLDERS):
                    _remove_tree(legacy)
            max_bytes //= shares
        self.max_bytes = max_bytes
        self._index = _DiskIndex(max_bytes, self._remove)
        self.folder.mkdir(exist_ok=True)
        self._scan()

    def _claim_share(self, root: Path, shares: int) -> Path:
        for index in range(shares):
            self._claim = lock_file(root / f"{_SHARE}{index}.lock")
            if self._claim is not None:
                return root / f"{_SHARE}{index}"
        # More processes than shares (one still exiting while its successor starts): this
        # one writes nothing and reads them all, rather than break the bound or not start.
        log.warning("result cache: the %d shares of %s are held; this one only reads", shares, root)
        return root / f"{_SHARE}none"

    def close(self) -> None:
        """Give up this process's share (the system does it at exit anyway)."""
        if self._claim is not None:
            os.close(self._claim)
            self._claim = None

    def __len__(self) -> int:
        return len(self._index)

    @property
    def bytes(self) -> int:
        """Total size of the entries on disk."""
        return int(self._index.currsize)

    @property
    def evictions(self) -> int:
        """Results removed to stay in bound."""
        return self._index.evictions

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key[2:]

    def _remove(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self._path(key).unlink()

    def _scan(self) -> None:
        found: list[tuple[int, str, int]] = []
        for path in self.folder.glob(f"{_KEY_FOLDERS}/*"):
            if path.name.startswith(_TEMPORARY):
                with suppress(FileNotFoundError):
                    path.unlink()
                continue
            stat = path.stat()
            found.append((stat.st_mtime_ns, path.parent.name + path.name, stat.st_size))
        with self._lock:
            # Oldest first, so that the bound (lowered since the last run, perhaps) evicts them.
            for _, key, size in sorted(found):
                if size > self.max_bytes:
                    self._index.evictions += 1
                    self._remove(key)
                else:
                    self._index[key] = size

    def get(self, key: str, *, counted: bool = True) -> CachedResult | None:
        """`counted=False`: not a look-up (the hits and misses), but the read of a result
        another process was seen making."""
        with self._lock:
            known = self._index.get(key) is not None  # and now the most recently used
        path = self._path(key)
        result = None
        if known:
            result = _read(path)
        else:
            for other in self._others:  # made by another process: its share, its recency
                result = _read(other / key[:2] / key[2:])
                if result is not None:
                    break
        with self._lock:
            if result is None:
                self.misses += counted
                if known and key in self._index:  # a damaged entry: forget it
                    del self._index[key]
                    self._remove(key)
            else:
                self.hits += counted
        return result

    def put(self, key: str, result: CachedResult) -> None:
        data = encode_result(result)
        if len(data) > self.max_bytes or (self._others and self._claim is None):
            return  # would evict everything and still not fit; or no share to write in
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_name(f"{_TEMPORARY}{path.name}.{secrets.token_hex(4)}")
        try:
            temporary.write_bytes(data)
            # Index and rename together, so that the files on disk are always what the index
            # counts: the bound holds on disk too, temporary files aside. Indexing evicts
            # (and unlinks) the least recently used first, so the rename finds the room.
            with self._lock:
                self._index.pop(key, None)  # its file is replaced below, not removed
                self._index[key] = len(data)
                try:
                    os.replace(temporary, path)
                except BaseException:
                    del self._index[key]
                    raise
        finally:
            with suppress(FileNotFoundError):
                temporary.unlink()


def _read(path: Path) -> CachedResult | None:
    """An entry's result, its recency refreshed on disk (it survives a restart); None when it
    is gone (evicted since the look-up), unreadable or not whole."""
    try:
        result = decode_result(path.read_bytes())
        os.utime(path)
    except OSError:
        return None
    return result


def _remove_unheld_shares(root: Path) -> None:
    """Remove the shares no running process holds (a share's lock is free)."""
    for share in root.glob(_SHARE + "*"):
        if share.suffix == ".lock" or not share.is_dir():
            continue
        handle = lock_file(share.with_name(share.name + ".lock"))
        if handle is None:
            continue  # a server running with several processes still uses it
        os.close(handle)
        _remove_tree(share)


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()
