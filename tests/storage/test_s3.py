"""The S3 backend against a real S3-compatible server (moto) over HTTP on 127.0.0.1.

The behaviour it shares with the local folder is proven in test_contract.py; these tests
cover what only a bucket has: URLs, credentials, prefixes, the objects themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from focal.storage import BlobNotFound, S3BlobStore, open_blob_store
from storage.s3server import S3Server


def test_open_blob_store_with_an_s3_url(
    s3_server: S3Server, clean_aws_environment: None, tmp_path: Path
) -> None:
    s3_server.create_bucket("focal-url")
    store = open_blob_store(s3_server.url(bucket="focal-url", prefix="blobs/v1"), tmp_path)
    assert isinstance(store, S3BlobStore)
    store.put("images/x/original", b"original bytes")
    store.put("images/x/variants/thumb", b"thumb")
    # The objects are really in the bucket, under the URL's prefix.
    assert s3_server.objects("focal-url") == {
        "blobs/v1/images/x/original": b"original bytes",
        "blobs/v1/images/x/variants/thumb": b"thumb",
    }
    assert store.delete_prefix("images/x/") == 2
    assert s3_server.objects("focal-url") == {}
    assert not tmp_path.joinpath("blobs").exists()  # nothing local for an S3 store
    store.close()


def test_a_bucket_without_prefix(s3_server: S3Server, clean_aws_environment: None) -> None:
    s3_server.create_bucket("focal-root")
    store = S3BlobStore.from_url(s3_server.url(bucket="focal-root"))
    store.put("k", b"v")
    assert s3_server.objects("focal-root") == {"k": b"v"}
    assert store.get("k") == b"v"


def test_credentials_from_the_aws_environment_variables(
    s3_server: S3Server, clean_aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    monkeypatch.setenv("AWS_REGION", s3_server.region)
    store = S3BlobStore.from_url(f"s3://focal-test/from-env?endpoint={s3_server.endpoint}")
    store.put("k", b"from env")
    assert store.get("k") == b"from env"
    assert s3_server.objects("focal-test")["from-env/k"] == b"from env"


def test_prefixes_keep_stores_apart(s3_server: S3Server, clean_aws_environment: None) -> None:
    one = S3BlobStore.from_url(s3_server.url(prefix="tenant-one"))
    two = S3BlobStore.from_url(s3_server.url(prefix="tenant-two"))
    one.put("images/a/original", b"one")
    two.put("images/a/original", b"two")
    assert one.delete_prefix("images/") == 1
    assert two.get("images/a/original") == b"two"
    with pytest.raises(BlobNotFound):
        one.get("images/a/original")


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3:///no-bucket",
        "s3://bucket/prefix?bogus=1",
        "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&secret=oops",
        "gs://bucket/prefix",
    ],
)
def test_bad_storage_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        open_blob_store(url, tmp_path)
