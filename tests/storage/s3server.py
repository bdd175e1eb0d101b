"""A real S3-compatible server for the tests: its address, credentials and buckets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

BUCKET = "focal-test"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    region: str = "us-east-1"
    access_key_id: str = "focal-test-key"
    secret_access_key: str = "focal-test-secret"

    def url(self, bucket: str = BUCKET, prefix: str = "") -> str:
        return (
            f"s3://{bucket}/{prefix}?endpoint={self.endpoint}&region={self.region}"
            f"&access_key_id={self.access_key_id}&secret_access_key={self.secret_access_key}"
        )

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in the bucket, read with another S3 client than the one under test."""
        client = self.client()
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }


@contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's server mode on 127.0.0.1 with the bucket BUCKET, stopped on leaving."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = S3Server(endpoint=f"http://{host}:{port}")
    s3.create_bucket(BUCKET)
    try:
        yield s3
    finally:
        server.stop()
