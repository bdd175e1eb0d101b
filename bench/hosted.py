"""Hosted images over HTTP: uploads (POST /images/v1) and delivery of a named variant
(GET /images/<id>/<variant>) of originals uploaded once, with the bench's API token."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import aiohttp
import httpx

from bench import load
from bench.chains import TOKEN
from bench.scenarios import HostedVariant
from bench.stats import Measurement
from focal.catalog import VariantRecord
from focal.options import canonical, parse_options
from focal.service.hosted import variant_options

AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}


def image_id(path: str) -> str:
    """The id an origin file is uploaded under: its path, so both name the same original."""
    return f"bench/{path}"


def variant_urls(base_url: str, variant: HostedVariant, paths: list[str]) -> list[str]:
    return [f"{base_url}/images/{quote(image_id(path))}/{variant.name}" for path in paths]


def _result(response: httpx.Response, what: str) -> dict[str, object]:
    if response.status_code != 200:
        raise SystemExit(f"{what}: {response.status_code} {response.text[:300]}")
    result: dict[str, object] = response.json()["result"]
    return result


def _check_equivalent(variant: dict[str, object], options: str) -> None:
    """The variant as the server stored it must be the same transformation as `options`
    through /cdn-cgi/image/, or the comparison is between two different workloads."""
    stored = variant["options"]
    assert isinstance(stored, dict)
    record = VariantRecord(
        name=str(variant["id"]),
        fit=stored["fit"],
        width=stored.get("width"),
        height=stored.get("height"),
        metadata=stored["metadata"],
        never_require_signed_urls=bool(variant["neverRequireSignedURLs"]),
    )
    served, reference = variant_options(record), options
    if canonical(parse_options(served)) != canonical(parse_options(reference)):
        raise SystemExit(f"variant {record.name!r} is {served!r}, not the same as {reference!r}")


def prepare_variant(
    base_url: str, variant: HostedVariant, options: str, origin: Path, paths: list[str]
) -> None:
    """Create (or reset) the variant and upload each origin file under its own id, once: a
    server started later on the same data folder finds them stored already (409)."""
    with httpx.Client(base_url=base_url, headers=AUTHORIZATION, timeout=60.0) as client:
        response = client.post("/images/v1/variants", json=variant.body)
        if response.status_code == 409:
            response = client.patch(f"/images/v1/variants/{variant.name}", json=variant.body)
        stored = _result(response, f"creating variant {variant.name!r}")["variant"]
        assert isinstance(stored, dict)
        _check_equivalent(stored, options)
        for path in paths:
            file = (path.rsplit("/", 1)[-1], (origin / path).read_bytes(), "image/jpeg")
            response = client.post("/images/v1", data={"id": image_id(path)}, files={"file": file})
            if response.status_code != 409:
                _result(response, f"uploading {path}")


def run_uploads(base_url: str, files: list[bytes], concurrency: int, count: int) -> Measurement:
    """`count` multipart uploads of `files` (round robin), `concurrency` at a time, each under
    an id the server makes up."""
    url = f"{base_url}/images/v1"

    async def send(session: aiohttp.ClientSession, ticket: int) -> load.Answer:
        data = files[ticket % len(files)]
        form = aiohttp.FormData()
        form.add_field("file", data, filename=f"upload-{ticket}.jpg", content_type="image/jpeg")
        return await load.answer(await session.post(url, data=form), sent_bytes=len(data))

    return load.run_requests(send, concurrency, count, AUTHORIZATION)
