"""The S3 backend against a real S3-compatible server (moto) over HTTP on 127.0.0.1.

The behaviour it shares with the local folder is proven in test_contract.py; these tests
cover what only a bucket has: URLs, credentials, prefixes, the objects themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from focal.storage import BlobNotFound, S3BlobStore, open_blob_store
from focal.storage.s3 import s3_store_from_url
from storage.s3server import S3Server

BASE = "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1"


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


def test_retries_and_timeout_from_the_url() -> None:
    store = s3_store_from_url(f"{BASE}&max_retries=2&timeout=1500ms")
    assert store.retry_config is not None and store.retry_config["max_retries"] == 2
    assert store.client_options is not None
    assert store.client_options["timeout"] == "1s 500ms"
    assert store.client_options["connect_timeout"] == "1s 500ms"
    assert store.config["endpoint"] == "http://127.0.0.1:9000"

    no_retry = s3_store_from_url(f"{BASE}&max_retries=0&timeout=2s")
    assert no_retry.retry_config is not None and no_retry.retry_config["max_retries"] == 0
    assert no_retry.client_options is not None and no_retry.client_options["timeout"] == "2s"

    # A longer timeout is for slow transfers: connecting keeps obstore's 5 s.
    slow = s3_store_from_url(f"{BASE}&timeout=2m")
    assert slow.client_options is not None
    assert (slow.client_options["timeout"], slow.client_options["connect_timeout"]) == ("2m", "5s")


def test_without_them_obstore_keeps_its_defaults() -> None:
    store = s3_store_from_url(BASE)
    assert store.retry_config is None  # 10 retries
    assert store.client_options is not None
    assert "timeout" not in store.client_options  # 30 s
    assert "connect_timeout" not in store.client_options  # 5 s


def test_defaults_apply_where_the_url_is_silent(tmp_path: Path) -> None:
    defaults = {"max_retries": "1", "timeout": "2s"}
    store = s3_store_from_url(BASE, defaults)
    assert store.retry_config is not None and store.retry_config["max_retries"] == 1
    assert store.client_options is not None and store.client_options["timeout"] == "2s"

    own = s3_store_from_url(f"{BASE}&max_retries=4", defaults)  # the URL's own win
    assert own.retry_config is not None and own.retry_config["max_retries"] == 4
    assert own.client_options is not None and own.client_options["timeout"] == "2s"

    blobs = open_blob_store(f"{BASE}&timeout=10s", tmp_path, s3_defaults=defaults)
    assert isinstance(blobs, S3BlobStore)
    assert blobs._store.client_options is not None
    assert blobs._store.client_options["timeout"] == "10s"


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("max_retries=-1", "max_retries='-1' in the storage URL: give a whole number from 0"),
        ("max_retries=1.5", "max_retries='1.5'"),
        ("max_retries=", "max_retries=''"),
        ("max_retries=ten", "max_retries='ten'"),
        ("max_retries=101", "to 100"),
        ("max_retries=99999999999999999999999", "max_retries="),
        ("timeout=2", "timeout='2' in the storage URL: give a duration of at least 1ms"),
        ("timeout=0s", "timeout='0s'"),
        ("timeout=0.0001s", "timeout='0.0001s'"),
        ("timeout=-2s", "timeout='-2s'"),
        ("timeout=2 s", "timeout='2 s'"),
        ("timeout=soon", "timeout='soon'"),
        ("timeout=", "timeout=''"),
        ("timeouts=2s", "unknown parameter 'timeouts'"),
    ],
)
def test_bad_retries_and_timeouts_are_refused(parameter: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        open_blob_store(f"{BASE}&{parameter}", tmp_path)
