"""Reading what `Images.input()` is given, refusing anything over the limit before it is whole."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Iterable
from io import IOBase
from pathlib import Path
from typing import IO, Any, cast

from focal.errors import ErrorKind, FocalError

DEFAULT_MAX_INPUT_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024

# bytes; a path; a binary file object; an iterator or async iterator of byte chunks
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Iterable[bytes]
AnySource = Source | AsyncIterable[bytes]


def too_large(max_bytes: int, size: int | None = None) -> FocalError:
    given = f"{size:,} bytes" if size is not None else f"more than {max_bytes:,} bytes"
    return FocalError(
        ErrorKind.SOURCE_TOO_LARGE,
        f"the input image is {given}; the limit is {max_bytes:,} bytes",
    )


class _Gathered:
    """Chunks gathered up to a limit: the first chunk past it stops the reading."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: Any) -> None:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"an input stream must yield bytes, not {type(chunk).__name__}")
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        self.parts.append(bytes(chunk))

    def data(self) -> bytes:
        return b"".join(self.parts)


def _read_file(handle: IO[bytes], max_bytes: int) -> bytes:
    gathered = _Gathered(max_bytes)
    while chunk := handle.read(CHUNK):
        gathered.add(chunk)
    return gathered.data()


class ImageInput:
    """One input image, read once: at once for what can be read now, on first use for an
    async stream (which only async outputs can read)."""

    def __init__(self, source: AnySource, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: bytes | None = None
        self._stream: AsyncIterable[bytes] | None = None
        if isinstance(source, bytes | bytearray | memoryview):
            if len(source) > max_bytes:
                raise too_large(max_bytes, len(source))
            self._data = bytes(source)
        elif isinstance(source, str | os.PathLike):
            path = Path(source)
            size = path.stat().st_size
            if size > max_bytes:
                raise too_large(max_bytes, size)
            with path.open("rb") as handle:  # it may have grown since: read within the limit
                self._data = _read_file(handle, max_bytes)
        elif isinstance(source, IOBase) or hasattr(source, "read"):
            self._data = _read_file(cast(IO[bytes], source), max_bytes)
        elif isinstance(source, AsyncIterable):
            self._stream = source
        elif isinstance(source, Iterable):
            gathered = _Gathered(max_bytes)
            for chunk in source:
                gathered.add(chunk)
            self._data = gathered.data()
        else:
            raise TypeError(
                "input() takes bytes, a path, a binary file object or an (async) iterator of "
                f"bytes, not {type(source).__name__}"
            )

    def data(self) -> bytes:
        if self._data is None:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                "this input is an async stream: use output_async() or info_async() to read it",
            )
        return self._data

    async def data_async(self) -> bytes:
        if self._data is None:
            assert self._stream is not None
            gathered = _Gathered(self.max_bytes)
            async for chunk in self._stream:
                gathered.add(chunk)
            self._data, self._stream = gathered.data(), None
        return self._data
