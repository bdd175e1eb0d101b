"""The fleet's shared result store on a real S3-compatible server (moto) over HTTP."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from focal.service.result_cache import CachedResult, encode_result, result_key
from focal.service.shared_results import SharedResults, open_shared_results
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


def _down_endpoint() -> str:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_server_that_is_down_costs_a_miss_never_an_exception(
    s3_server: S3Server, clean_aws_environment: None, caplog: pytest.LogCaptureFixture
) -> None:
    url = s3_server.url().replace(s3_server.endpoint, _down_endpoint())
    shared = SharedResults(S3BlobStore.from_url(f"{url}&max_retries=0"))  # fail at once
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        shared.put(KEY, RESULT)
        assert shared.get(KEY) is None
    assert (shared.hits, shared.misses, shared.errors) == (0, 1, 2)
    assert "GenericError" in caplog.text
    assert "retries" not in caplog.text  # obstore says "after N retries" when it retried


def test_the_fleet_store_fails_fast_unless_its_url_says_otherwise(
    s3_server: S3Server, clean_aws_environment: None, caplog: pytest.LogCaptureFixture
) -> None:
    shared = open_shared_results(s3_server.url(prefix="fast"), Path("/nonexistent"))
    assert shared is not None and isinstance(shared.blobs, S3BlobStore)
    store = shared.blobs._store
    assert store.retry_config is not None and store.retry_config["max_retries"] == 1
    assert store.client_options is not None
    assert (store.client_options["timeout"], store.client_options["connect_timeout"]) == (
        "2s",
        "2s",
    )
    shared.put(KEY, RESULT)  # the server is up: the defaults change nothing
    assert shared.get(KEY) == RESULT

    patient = open_shared_results(
        f"{s3_server.url(prefix='fast')}&max_retries=5&timeout=30s", Path("/nonexistent")
    )
    assert patient is not None and isinstance(patient.blobs, S3BlobStore)
    own = patient.blobs._store
    assert own.retry_config is not None and own.retry_config["max_retries"] == 5
    assert own.client_options is not None and own.client_options["timeout"] == "30s"
    assert patient.get(KEY) == RESULT

    # Down: each call gives up after the one retry (about 0.1 s on a refused connection,
    # where obstore's ten retries with back-off take 2 to 11 s).
    url = s3_server.url().replace(s3_server.endpoint, _down_endpoint())
    down = open_shared_results(url, Path("/nonexistent"))
    assert down is not None
    with caplog.at_level(logging.WARNING, logger="focal.service.shared_results"):
        down.put(KEY, RESULT)
        assert down.get(KEY) is None
    assert (down.hits, down.misses, down.errors) == (0, 1, 2)
    assert caplog.text.count("after 1 retries, max_retries: 1") == 2
    assert s3_server.secret_access_key not in caplog.text
    for opened in (shared, patient, down):
        opened.close()
