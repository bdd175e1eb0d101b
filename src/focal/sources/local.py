"""Originals from a folder on this machine: the origin folder of `/cdn-cgi/image/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from focal.errors import ErrorKind, FocalError


@dataclass(frozen=True)
class LocalSource:
    data: bytes
    path: Path
    fingerprint: str  # changes whenever the file does (size, modification time, inode)


@dataclass(frozen=True)
class LocalFile:
    path: Path
    fingerprint: str
    relative: str


class LocalOrigin:
    """Reads files under one root folder, never outside it."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def locate(self, relative: str) -> Path:
        """The file for a URL path, refusing anything that would leave the root."""
        parts = [part for part in relative.replace("\\", "/").split("/") if part not in ("", ".")]
        if not parts or ".." in parts or any("\x00" in part for part in parts):
            raise FocalError(
                ErrorKind.INVALID_URL,
                f"{relative!r} is not a path under the origin folder",
            )
        missing = FocalError(ErrorKind.NOT_FOUND, f"no original at {'/'.join(parts)!r}")
        try:
            path = self.root.joinpath(*parts).resolve()
            if not path.is_relative_to(self.root):
                raise FocalError(
                    ErrorKind.INVALID_URL, f"{relative!r} leads outside the origin folder"
                )
            if not path.is_file():
                raise missing
        except (OSError, RuntimeError):  # a name too long, a symlink loop (RuntimeError < 3.13)
            raise missing from None
        return path

    def stat(self, relative: str) -> LocalFile:
        """The file and its fingerprint, without reading it (enough to answer a 304)."""
        path = self.locate(relative)
        try:
            stat = path.stat()
        except OSError as error:
            raise self._unreadable(relative, error) from None
        if stat.st_size > self.max_bytes:
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"the original is {stat.st_size:,} bytes; the limit is {self.max_bytes:,} bytes",
            )
        fingerprint = f"file:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
        return LocalFile(path=path, fingerprint=fingerprint, relative=relative)

    def load(self, file: LocalFile) -> bytes:
        try:
            with open(file.path, "rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as error:
            raise self._unreadable(file.relative, error) from None
        if len(data) > self.max_bytes:  # grew since it was looked at
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"the original is over the limit of {self.max_bytes:,} bytes",
            )
        return data

    def read(self, relative: str) -> LocalSource:
        file = self.stat(relative)
        return LocalSource(data=self.load(file), path=file.path, fingerprint=file.fingerprint)

    @staticmethod
    def _unreadable(relative: str, error: OSError) -> FocalError:
        return FocalError(
            ErrorKind.FETCH_FAILED,
            f"the original at {relative!r} could not be read ({error.strerror}); "
            "check its permissions in the origin folder",
        )
