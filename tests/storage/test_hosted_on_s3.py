"""Hosted images with their originals in an S3-compatible store, end to end over HTTP."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pyvips

from conftest import RunningServer, read_photo
from storage.s3server import BUCKET, S3Server

TOKEN = "s3-hosted-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
_prefixes = itertools.count()


def test_upload_deliver_delete_on_s3(
    s3_server: S3Server, clean_aws_environment: None, start_server: Callable[..., RunningServer]
) -> None:
    prefix = f"hosted-{next(_prefixes)}/"
    server = start_server(
        api_tokens=(TOKEN,), detector_warm_start=False, storage_url=s3_server.url(prefix=prefix)
    )
    photo = read_photo("multi_face")
    with server.client() as client:
        uploaded = client.post(
            "/images/v1", headers=AUTH, files={"file": ("g.jpg", photo)}, data={"id": "group"}
        )
        assert uploaded.status_code == 200, uploaded.text
        digest = hashlib.sha256(photo).hexdigest()
        objects = s3_server.objects(BUCKET)
        folder = hashlib.sha256(b"group").hexdigest()
        assert objects[f"{prefix}images/{folder}/{digest}"] == photo
        assert client.get("/images/v1/group/blob", headers=AUTH).content == photo
        variant = client.get("/images/group/public")
        assert variant.status_code == 200
        image = pyvips.Image.new_from_buffer(variant.content, "")
        assert (image.width, image.height) == (1000, 667)
        assert client.delete("/images/v1/group", headers=AUTH).status_code == 200
        assert client.get("/images/group/public").status_code == 404
    assert not [key for key in s3_server.objects(BUCKET) if key.startswith(prefix)]
