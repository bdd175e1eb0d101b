"""Blob storage: one small interface; a local folder by default, S3-compatible by URL."""

from typing import TYPE_CHECKING, Any

from focal.storage.base import BlobNotFound, BlobStore
from focal.storage.keys import validate_key
from focal.storage.local import LocalBlobStore
from focal.storage.url import open_blob_store

if TYPE_CHECKING:
    from focal.storage.s3 import S3BlobStore

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "LocalBlobStore",
    "S3BlobStore",
    "open_blob_store",
    "validate_key",
]


def __getattr__(name: str) -> Any:
    # obstore comes with the s3 extra: loaded when an S3 store is asked for.
    if name == "S3BlobStore":
        from focal.storage.s3 import S3BlobStore

        return S3BlobStore
    raise AttributeError(f"module 'focal.storage' has no attribute {name!r}")
