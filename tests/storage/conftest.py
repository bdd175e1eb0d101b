"""Blob stores for the tests: a local folder, and a bucket on a real S3-compatible server
(moto's server mode) over HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from focal.storage import BlobStore, LocalBlobStore, S3BlobStore
from storage.s3server import S3Server, running_s3

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto server for the session, with the bucket BUCKET; tests use their own prefix."""
    with running_s3() as s3:
        yield s3


@pytest.fixture
def clean_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS_* variable of the machine may point the tests at a real account."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def s3_store(s3_server: S3Server, clean_aws_environment: None) -> Iterator[S3BlobStore]:
    """A store under a prefix of its own in the shared bucket."""
    store = S3BlobStore.from_url(s3_server.url(prefix=f"test-{next(_prefixes)}"))
    yield store
    store.close()


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[LocalBlobStore]:
    store = LocalBlobStore(tmp_path / "blobs")
    yield store
    store.close()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> BlobStore:
    """Each backend in turn, so that one set of tests proves they behave the same."""
    backend: BlobStore = request.getfixturevalue(f"{request.param}_store")
    return backend
