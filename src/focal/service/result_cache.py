"""Encoded results on local disk: a size-bounded LRU, so a variant asked for twice is made once.

A key is the sha256 of a variant's identity (source fingerprint, canonical options, client
facts used): a replaced or deleted original has a new fingerprint, so its old variants are
never found again and simply age out. Files live at `<folder>/ab/cdef…`, written to a
temporary name and renamed, so a reader sees a whole entry or none. The index (sizes and
recency) is kept in memory and rebuilt from a scan at start, ordered by modification time,
which `get` refreshes. Methods are synchronous and thread-safe: callers use asyncio.to_thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
import threading
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

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


class ResultCache:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.bytes = 0  # total size of the entries on disk
        self._sizes: OrderedDict[str, int] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._scan()

    def __len__(self) -> int:
        return len(self._sizes)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key[2:]

    def _scan(self) -> None:
        found: list[tuple[int, str, int]] = []
        for path in self.folder.glob("*/*"):
            if path.name.startswith(_TEMPORARY):
                with suppress(FileNotFoundError):
                    path.unlink()
                continue
            stat = path.stat()
            found.append((stat.st_mtime_ns, path.parent.name + path.name, stat.st_size))
        for _, key, size in sorted(found):
            self._sizes[key] = size
            self.bytes += size
        with self._lock:
            self._evict(0)  # the bound may have been lowered since the last run

    def _evict(self, room: int) -> None:
        """Drop least recently used entries until `room` more bytes fit (lock held)."""
        while self._sizes and self.bytes + room > self.max_bytes:
            key, size = self._sizes.popitem(last=False)
            self.bytes -= size
            self.evictions += 1
            with suppress(FileNotFoundError):
                self._path(key).unlink()

    def get(self, key: str) -> CachedResult | None:
        with self._lock:
            known = key in self._sizes
            if known:
                self._sizes.move_to_end(key)
        path = self._path(key)
        result = None
        if known:
            try:
                result = decode_result(path.read_bytes())
                os.utime(path)  # recency survives a restart
            except OSError:  # evicted since the look-up, or unreadable: a miss
                result = None
        with self._lock:
            if result is None:
                self.misses += 1
                if known and key in self._sizes:  # a damaged entry: forget it
                    self.bytes -= self._sizes.pop(key)
                    with suppress(FileNotFoundError):
                        path.unlink()
            else:
                self.hits += 1
        return result

    def put(self, key: str, result: CachedResult) -> None:
        data = encode_result(result)
        if len(data) > self.max_bytes:
            return  # would evict everything and still not fit
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_name(f"{_TEMPORARY}{path.name}.{secrets.token_hex(4)}")
        try:
            temporary.write_bytes(data)
            # Rename and index together, so that the files on disk are always what the index
            # counts: the bound holds on disk too, temporary files aside.
            with self._lock:
                old = self._sizes.pop(key, None)
                if old is not None:
                    self.bytes -= old
                self._evict(len(data))
                os.replace(temporary, path)
                self._sizes[key] = len(data)
                self.bytes += len(data)
        finally:
            with suppress(FileNotFoundError):
                temporary.unlink()
