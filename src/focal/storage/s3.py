"""Blobs in an S3-compatible bucket, through obstore.

S3 itself makes a put atomic: an object is visible whole, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import obstore
from obstore.store import S3Store

from focal.storage.base import BlobNotFound
from focal.storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

# Query parameters of an s3:// URL that go into the store's configuration. Anything not
# given is taken from the AWS_* environment variables, as every AWS client does.
S3_CONFIG_PARAMETERS = ("endpoint", "region", "access_key_id", "secret_access_key", "session_token")
# Query parameters for the HTTP client: how many times a failed request is retried (obstore's
# default: 10, with exponential back-off from 100 ms), and the time a request may take, from
# connecting to the end of its body (obstore's default: 30 s, and 5 s to connect).
CLIENT_PARAMETERS = ("max_retries", "timeout")
URL_PARAMETERS = S3_CONFIG_PARAMETERS + CLIENT_PARAMETERS
MAX_RETRIES_LIMIT = 100
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=5)  # obstore's

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _max_retries(value: str) -> int:
    if not re.fullmatch(r"[0-9]+", value) or int(value) > MAX_RETRIES_LIMIT:
        raise ValueError(
            f"max_retries={value!r} in the storage URL: give a whole number from 0 (no retry) "
            f"to {MAX_RETRIES_LIMIT}"
        )
    return int(value)


def _timeout(value: str) -> timedelta:
    found = _DURATION.fullmatch(value)
    seconds = float(found.group(1)) * _UNIT_SECONDS[found.group(2)] if found else 0.0
    if seconds < 0.001:  # also refuses what is not a duration at all
        raise ValueError(
            f"timeout={value!r} in the storage URL: give a duration of at least 1ms with its "
            "unit, such as 500ms, 2s, 1.5s, 1m or 1h"
        )
    return timedelta(seconds=seconds)


def s3_store_from_url(url: str, defaults: Mapping[str, str] | None = None) -> S3Store:
    """`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1` -> an S3Store.

    `defaults` are URL parameters for what the URL does not set (the URL's own win).
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    config: S3Config = {}
    client_options: ClientConfig = {}
    retry_config: RetryConfig = {}
    given = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in [*(defaults or {}).items(), *given]:  # the URL's own come last: they win
        if name not in URL_PARAMETERS:
            raise ValueError(
                f"unknown parameter {name!r} in the storage URL; known: {', '.join(URL_PARAMETERS)}"
            )
        if name == "max_retries":
            retry_config["max_retries"] = _max_retries(value)
        elif name == "timeout":
            # It bounds connecting too, but never raises obstore's 5 s for that phase alone:
            # a longer timeout is for slow transfers, not for an endpoint that drops packets.
            timeout = _timeout(value)
            client_options["timeout"] = timeout
            client_options["connect_timeout"] = min(timeout, DEFAULT_CONNECT_TIMEOUT)
        else:
            config[name] = value  # type: ignore[literal-required]  # one of S3_CONFIG_PARAMETERS
    if config.get("endpoint", "").startswith("http://"):
        client_options["allow_http"] = True  # a local or in-cluster S3-compatible server
    return S3Store(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        config=config,
        client_options=client_options,
        retry_config=retry_config or None,
    )


class S3BlobStore:
    """A `BlobStore` in a bucket, under the store's prefix if it has one."""

    def __init__(self, store: S3Store) -> None:
        self._store = store

    @classmethod
    def from_url(cls, url: str, defaults: Mapping[str, str] | None = None) -> S3BlobStore:
        return cls(s3_store_from_url(url, defaults))

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
