"""Hosted images' originals: bytes in the blob store, fingerprinted by the catalog's hash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from focal.errors import ErrorKind, FocalError
from focal.storage import BlobNotFound, BlobStore


@dataclass(frozen=True)
class HostedSource:
    """A stored image as a `Source` (focal.sources.base).

    The catalog's content hash is the fingerprint: a cache hit or a 304 reads no blob.
    """

    image_id: str
    content_hash: str
    blob_key: str
    blobs: BlobStore

    @property
    def name(self) -> str:
        return f"hosted:{self.image_id}"

    @property
    def fingerprint(self) -> str:
        return f"hosted:{self.image_id}:{self.content_hash}"

    @property
    def original_url(self) -> str:
        return f"/images/{self.image_id}/public"

    @property
    def in_memory(self) -> bool:
        return False

    async def read(self) -> bytes:
        return await asyncio.to_thread(self._get)

    def blocking_read(self) -> Callable[[], bytes]:
        return self._get

    def _get(self) -> bytes:
        try:
            return self.blobs.get(self.blob_key)
        except BlobNotFound:
            missing = f"the original of {self.image_id!r} is missing"
            raise FocalError(ErrorKind.NOT_FOUND, missing) from None
