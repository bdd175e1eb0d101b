"""Blobs in an S3-compatible bucket, through obstore.

S3 itself makes a put atomic: an object is visible whole, or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import obstore
from obstore.store import S3Store

from focal.storage.base import BlobNotFound
from focal.storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config

# Query parameters of an s3:// URL that go into the store's configuration. Anything not
# given is taken from the AWS_* environment variables, as every AWS client does.
URL_PARAMETERS = ("endpoint", "region", "access_key_id", "secret_access_key", "session_token")


def s3_store_from_url(url: str) -> S3Store:
    """`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1` -> an S3Store."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    config: S3Config = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in URL_PARAMETERS:
            raise ValueError(
                f"unknown parameter {name!r} in the storage URL; known: {', '.join(URL_PARAMETERS)}"
            )
        config[name] = value  # type: ignore[literal-required]  # name is one of URL_PARAMETERS
    client_options: ClientConfig = {}
    if config.get("endpoint", "").startswith("http://"):
        client_options["allow_http"] = True  # a local or in-cluster S3-compatible server
    return S3Store(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        config=config,
        client_options=client_options,
    )


class S3BlobStore:
    """A `BlobStore` in a bucket, under the store's prefix if it has one."""

    def __init__(self, store: S3Store) -> None:
        self._store = store

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        return cls(s3_store_from_url(url))

    def put(self, key: str, data: bytes) -> None:
        obstore.put(self._store, validate_key(key), data)

    def get(self, key: str) -> bytes:
        try:
            return bytes(obstore.get(self._store, validate_key(key)).bytes())
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        try:
            obstore.head(self._store, validate_key(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        # S3 answers a delete of a missing object with success.
        obstore.delete(self._store, validate_key(key))

    def delete_prefix(self, prefix: str) -> int:
        # obstore lists whole path segments, so list the folder the prefix ends in and keep
        # the keys that start with the prefix as a string.
        folder = validate_prefix(prefix).rpartition("/")[0]
        keys = [
            meta["path"]
            for chunk in obstore.list(self._store, folder or None, chunk_size=1000)
            for meta in chunk
            if meta["path"].startswith(prefix)
        ]
        if keys:
            obstore.delete(self._store, keys)  # in batches of up to 1000 per request
        return len(keys)

    def close(self) -> None:
        """Nothing to release: obstore closes its connections when the store is dropped."""
