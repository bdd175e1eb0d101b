"""The fleet's shared result store on a real S3-compatible server (moto) over HTTP."""

from __future__ import annotations

import logging
import socket

import pytest
from obstore.store import S3Store

from focal.service.result_cache import CachedResult, encode_result, result_key
from focal.service.shared_results import SharedResults
from focal.storage import S3BlobStore
from storage.s3server import BUCKET, S3Server

RESULT = CachedResult(b"\x00avif body\xff", "image/avif", {"Focal-Gravity": "face; faces=1"})
KEY = result_key("https://example.com/a.jpg:etag\nwidth=300,format=avif")


def test_round_trip_miss_and_torn_entry(s3_server: S3Server, s3_store: S3BlobStore) -> None:
    shared = SharedResults(s3_store)
    assert shared.get(KEY) is None
    shared.put(KEY, RESULT)
    assert shared.get(KEY) == RESULT
    blob_key = f"results/{KEY[:2]}/{KEY}"
    assert s3_store.get(blob_key) == encode_result(RESULT)
    s3_store.put(blob_key, b"FRC1 and then nothing")
    assert shared.get(KEY) is None
    assert not s3_store.exists(blob_key)
    assert (shared.hits, shared.misses, shared.errors) == (1, 2, 0)


def test_servers_of_a_fleet_find_each_others_results(
    s3_server: S3Server, clean_aws_environment: None
) -> None:
    # Two servers, each with its own client of the same bucket and prefix.
    url = s3_server.url(prefix="fleet")
    one = SharedResults(S3BlobStore.from_url(url))
    two = SharedResults(S3BlobStore.from_url(url))
    one.put(KEY, RESULT)
    assert two.get(KEY) == RESULT
    assert s3_server.objects(BUCKET)[f"fleet/results/{KEY[:2]}/{KEY}"] == encode_result(RESULT)
    one.close()
    two.close()


def test_a_missing_bucket_costs_a_miss_never_an_exception(
    s3_server: S3Server, clean_aws_environment: None, caplog: pytest.LogCaptureFixture
) -> None:
    # A bucket that isn't there: the server refuses every write.
    shared = SharedResults(S3BlobStore.from_url(s3_server.url(bucket="focal-no-such-bucket")))
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        shared.put(KEY, RESULT)
        assert shared.get(KEY) is None
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 1)
    assert "writing results/" in caplog.text


def test_a_server_that_is_down_costs_a_miss_never_an_exception(
    s3_server: S3Server, clean_aws_environment: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = S3Store(
        BUCKET,
        config={
            "endpoint": f"http://127.0.0.1:{port}",
            "region": s3_server.region,
            "access_key_id": s3_server.access_key_id,
            "secret_access_key": s3_server.secret_access_key,
        },
        client_options={"allow_http": True},
        retry_config={"max_retries": 0},  # fail at once rather than after ten retries
    )
    shared = SharedResults(S3BlobStore(store))
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        shared.put(KEY, RESULT)
        assert shared.get(KEY) is None
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 2)
    assert "GenericError" in caplog.text
