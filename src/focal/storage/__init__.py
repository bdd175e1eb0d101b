"""Blob storage: one small interface; a local folder by default, S3-compatible by URL."""

from focal.storage.base import BlobNotFound, BlobStore
from focal.storage.keys import validate_key
from focal.storage.local import LocalBlobStore
from focal.storage.s3 import S3BlobStore
from focal.storage.url import open_blob_store

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "LocalBlobStore",
    "S3BlobStore",
    "open_blob_store",
    "validate_key",
]
