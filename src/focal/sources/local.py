"""Originals from a folder on this machine: the origin folder of `/cdn-cgi/image/`."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISLNK, S_ISREG

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
        self._root_text = str(self.root)
        self._root_prefix = os.path.join(self._root_text, "")  # with its separator
        self.max_bytes = max_bytes
        self._hashes: LRUCache[tuple[int, ...], str] = LRUCache(HASHES_KEPT)
        self._lock = threading.Lock()

    def _locate(self, relative: str) -> tuple[Path, str, os.stat_result]:
        """The file for a URL path, its path under the root, and its stat (taken once: it
        says what the file is and, for the fingerprint, which content it holds); refusing
        anything that would leave the root.

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
            real, under_root, stat = self._walk(parts)
            if real == self._root_text:  # a link to the folder itself
                raise missing
            if not real.startswith(self._root_prefix):
                raise FocalError(
                    ErrorKind.INVALID_URL, f"{relative!r} leads outside the origin folder"
                )
            if _hidden(under_root):
                raise _hidden_refused(parts)
            if stat is None:  # reached through a link: its target, now known inside
                stat = os.stat(real)
        except (OSError, ValueError):  # a name too long, a symlink loop, an unencodable name
            raise missing from None
        if not S_ISREG(stat.st_mode):
            raise missing
        return Path(real), "/".join(under_root), self._checked_size(stat)

    def _walk(self, parts: Sequence[str]) -> tuple[str, list[str], os.stat_result | None]:
        """The real path of `parts`, its parts under the root, and its stat (None: not taken).

        One lstat per part when none is a link (a plain name: one system call; each releases
        and retakes the GIL on the event loop, so realpath's walk from / costs several); a
        link anywhere: realpath, and no stat yet (its target may lie outside the root).
        """
        path = self._root_text
        for part in parts:
            path = os.path.join(path, part)
            stat = os.lstat(path)
            if S_ISLNK(stat.st_mode):
                real = os.path.realpath(os.path.join(self._root_text, *parts))
                return real, real[len(self._root_prefix) :].split(os.sep), None
        return path, list(parts), stat

    def stat(self, relative: str) -> LocalFile:
        """The file, with its fingerprint if its content is known: no reading.

        An unknown file has an empty fingerprint: `hashed` reads it and makes one. A few
        system calls on the origin folder's disk, cheaper than a hop to a thread: callers
        make it on the event loop.
        """
        path, name, stat = self._locate(relative)
        with self._lock:
            digest = self._hashes.get(_stat_key(stat))
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
        return self._checked_size(stat)

    def _checked_size(self, stat: os.stat_result) -> os.stat_result:
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

    def blocking_read(self) -> Callable[[], bytes]:
        return functools.partial(self.origin.load, self.file)
