"""Choosing the blob store from a URL: the `storage_url` and `shared_results_url` settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from focal.extras import missing_extra
from focal.storage.base import BlobStore
from focal.storage.local import LocalBlobStore


def open_blob_store(
    url: str, data_dir: Path, *, s3_defaults: Mapping[str, str] | None = None
) -> BlobStore:
    """`""` -> `<data_dir>/blobs`; `file:///abs/path` -> that folder;
    `s3://bucket/prefix?endpoint=...&region=...` -> a bucket (credentials from AWS_* variables
    or the `access_key_id` and `secret_access_key` parameters; `max_retries` and `timeout`
    from `s3_defaults` when the URL does not set them, else obstore's defaults).

    ValueError for a URL that is wrong; OSError for a folder that cannot be made."""
    if not url:
        return LocalBlobStore(data_dir / "blobs")
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return LocalBlobStore(_local_path(url))
    if scheme == "s3":
        try:
            from focal.storage.s3 import S3BlobStore
        except ModuleNotFoundError as error:
            raise missing_extra(error, "an s3:// storage URL") or error from None
        return S3BlobStore.from_url(url, s3_defaults)
    raise ValueError(
        f"unsupported storage URL {url!r}: use file:///absolute/path or s3://bucket/prefix"
    )


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    path = Path(unquote(parts.path))
    if parts.netloc not in ("", "localhost") or parts.query or not path.is_absolute():
        raise ValueError(f"not a file:///absolute/path URL: {url!r}")
    return path
