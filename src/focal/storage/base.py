"""The blob interface every storage backend implements."""

from __future__ import annotations

from typing import Protocol


class BlobNotFound(Exception):
    """No blob is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no blob stored under {key!r}")
        self.key = key


class BlobStore(Protocol):
    """Bytes under string keys. Synchronous: async callers run it in a thread.

    Keys are '/'-separated paths such as `images/<id>/original` (see `focal.storage.keys`);
    an invalid key raises ValueError on every method. A backend that can't do a call raises
    its own errors, never ValueError: OSError from a folder (a disk that fails, a file where a
    folder should be), obstore's errors from a bucket (network, credentials, a missing bucket).
    """

    def put(self, key: str, data: bytes) -> None:
        """Store data under key. Atomic: a reader sees the old blob, the whole new one, or none."""
        ...

    def get(self, key: str) -> bytes:
        """The blob under key; BlobNotFound if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob under key; nothing happens if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob whose key starts with prefix (a plain string prefix, as in S3:
        end it with '/' to mean a folder); returns how many were removed."""
        ...

    def close(self) -> None: ...
