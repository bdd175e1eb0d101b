"""Originals from a folder on this machine: the origin folder of `/cdn-cgi/image/`."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache

from focal.errors import ErrorKind, FocalError

HASHES_KEPT = 65_536  # files whose content hash is remembered (about 15 MB)


@dataclass(frozen=True)
class LocalSource:
    data: bytes
    path: Path
    fingerprint: str  # the content's hash: equal contents, equal fingerprints


@dataclass(frozen=True)
class LocalFile:
    path: Path
    fingerprint: str
    relative: str
    name: str  # the path under the root, as one spelling: what metering counts by
    data: bytes | None = None  # read already, to hash it


def _stat_key(stat: os.stat_result) -> tuple[int, ...]:
    """Changes whenever the file does; ctime also catches a rewrite that restored mtime."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _hidden(parts: Sequence[str]) -> bool:
    return any(part.startswith(".") for part in parts)


def _hidden_refused(parts: Sequence[str]) -> FocalError:
    return FocalError(
        ErrorKind.NOT_FOUND,
        f"no original at {'/'.join(parts)!r}: hidden files and folders "
        "(names starting with '.') are not served",
    )


class LocalOrigin:
    """Reads files under one root folder, never outside it.

    A file's fingerprint is the SHA-256 of its content, so servers with copies of one folder
    agree on it (shared results, ETags). The hash is remembered by the file's stat, so a
    repeat costs a stat, not a read.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes
        self._hashes: LRUCache[tuple[int, ...], str] = LRUCache(HASHES_KEPT)
        self._lock = threading.Lock()

    def locate(self, relative: str) -> Path:
        """The file for a URL path, refusing anything that would leave the root.

        Hidden files and folders (a name starting with '.', like .env or .git) are never
        found, by their own name or through a link: they are not originals.
        """
        parts = [part for part in relative.replace("\\", "/").split("/") if part not in ("", ".")]
        if not parts or ".." in parts or any("\x00" in part for part in parts):
            raise FocalError(
                ErrorKind.INVALID_URL,
                f"{relative!r} is not a path under the origin folder",
            )
        missing = FocalError(ErrorKind.NOT_FOUND, f"no original at {'/'.join(parts)!r}")
        if _hidden(parts):
            raise _hidden_refused(parts)
        try:
            path = self.root.joinpath(*parts).resolve()
            if not path.is_relative_to(self.root):
                raise FocalError(
                    ErrorKind.INVALID_URL, f"{relative!r} leads outside the origin folder"
                )
            if _hidden(path.relative_to(self.root).parts):
                raise _hidden_refused(parts)
            if not path.is_file():
                raise missing
        except (OSError, RuntimeError):  # a name too long, a symlink loop (RuntimeError < 3.13)
            raise missing from None
        return path

    def stat(self, relative: str) -> LocalFile:
        """The file, with its fingerprint if its content is known: no reading.

        An unknown file has an empty fingerprint: `hashed` reads it and makes one.
        """
        path = self.locate(relative)
        name = path.relative_to(self.root).as_posix()
        key = _stat_key(self._stat(path, relative))
        with self._lock:
            digest = self._hashes.get(key)
        return LocalFile(path, f"file:{digest}" if digest else "", relative, name)

    def hashed(self, file: LocalFile) -> LocalFile:
        """The file read, with the fingerprint of what was read; remembered by its stat."""
        if file.fingerprint:
            return file
        key = _stat_key(self._stat(file.path, file.relative))
        data = self.load(file)
        digest = hashlib.sha256(data).hexdigest()
        if _stat_key(self._stat(file.path, file.relative)) == key:  # not changed while read
            with self._lock:
                self._hashes[key] = digest
        return dataclasses.replace(file, fingerprint=f"file:{digest}", data=data)

    def _stat(self, path: Path, relative: str) -> os.stat_result:
        try:
            stat = path.stat()
        except OSError as error:
            raise self._unreadable(relative, error) from None
        if stat.st_size > self.max_bytes:
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"the original is {stat.st_size:,} bytes; the limit is {self.max_bytes:,} bytes",
            )
        return stat

    def load(self, file: LocalFile) -> bytes:
        if file.data is not None:
            return file.data
        try:
            with open(file.path, "rb") as handle:
                # Sized by the file, not by the limit: a read of the limit allocates that
                # much afresh (mapped, then faulted in page by page) for every request.
                size = min(os.fstat(handle.fileno()).st_size, self.max_bytes)
                data = handle.read(size + 1)
                if len(data) > size:  # grew since: read on, up to one byte past the limit
                    data += handle.read(self.max_bytes + 1 - len(data))
        except OSError as error:
            raise self._unreadable(file.relative, error) from None
        if len(data) > self.max_bytes:  # grew since it was looked at
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"the original is over the limit of {self.max_bytes:,} bytes",
            )
        return data

    def read(self, relative: str) -> LocalSource:
        file = self.hashed(self.stat(relative))
        return LocalSource(data=self.load(file), path=file.path, fingerprint=file.fingerprint)

    @staticmethod
    def _unreadable(relative: str, error: OSError) -> FocalError:
        return FocalError(
            ErrorKind.FETCH_FAILED,
            f"the original at {relative!r} could not be read ({error.strerror}); "
            "check its permissions in the origin folder",
        )


@dataclass(frozen=True)
class LocalFileSource:
    """A file of the origin folder as a `Source` (focal.sources.base)."""

    origin: LocalOrigin
    file: LocalFile

    @property
    def name(self) -> str:
        return f"origin:{self.file.name}"

    @property
    def fingerprint(self) -> str:
        return self.file.fingerprint

    @property
    def original_url(self) -> str:
        return "/originals/" + self.file.relative.lstrip("/")

    @property
    def in_memory(self) -> bool:
        return self.file.data is not None

    async def read(self) -> bytes:
        if self.file.data is not None:
            return self.file.data
        return await asyncio.to_thread(self.origin.load, self.file)
