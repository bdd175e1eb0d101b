"""The published /openapi.json against a real server: real answers, good and bad, to every
JSON operation hold to its schema; operation ids are unique; protected routes name the
bearer scheme.

Validation uses jsonschema (OpenAPI 3.1's schemas are JSON Schema 2020-12) on answers of
scripted requests: a fuzzer such as schemathesis would send generated `url` fields that the
server fetches, and a handful of real requests per operation covers what the schema promises.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import RunningServer, read_photo
from focal.pipeline.flat_chain import CHAIN_PART, input_part
from focal.sdk import Images

TOKEN = "openapi-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC_URI = "urn:focal:openapi"
# Answered outside the APIs' schemas: Prometheus' text and the probes of an orchestrator.
UNCHECKED = {"/metrics", "/healthz", "/readyz"}


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def template_regex(template: str) -> re.Pattern[str]:
    """A path template as a pattern; Focal's ids and sources are paths, so a part is `.+`."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template)) + "$")


@dataclass
class Checked:
    """The spec, and which statuses of which operations real answers have been held to."""

    spec: dict[str, Any]
    seen: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    def check(self, response: httpx.Response, template: str) -> httpx.Response:
        """Hold `response` to what the spec says `template` answers with its status."""
        method = response.request.method.lower()
        assert template_regex(template).match(response.request.url.path), template
        operation = self.spec["paths"][template][method]
        status = response.status_code
        key = str(status) if str(status) in operation["responses"] else f"{status // 100}XX"
        assert key in operation["responses"], f"{method} {template}: {status} is not published"
        content = operation["responses"][key].get("content", {})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if method == "head" or status in (302, 304):
            assert not response.content
        else:
            documented = media_type if media_type in content else media_type.split("/")[0] + "/*"
            assert documented in content, f"{method} {template} {status}: {media_type} unpublished"
            if documented.endswith("json"):
                at = pointer("paths", template, method, "responses", key, "content", documented)
                schema = {"$ref": f"{SPEC_URI}#{at}/schema"}
                Draft202012Validator(schema, registry=self.registry).validate(response.json())
        self.seen.setdefault((template, method), set()).add(status)
        return response


@pytest.fixture
def server(start_server: Any) -> RunningServer:
    running: RunningServer = start_server(
        api_tokens=(TOKEN,), detector_warm_start=False, serve_originals=True
    )
    return running


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def checked(client: httpx.Client) -> Checked:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return Checked(response.json())


def test_fetching_the_schema_warns_of_nothing(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns of a duplicate operation id
        schema = server.app.openapi()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) and len(ids) > 25


def test_every_reference_in_the_schema_resolves(checked: Checked) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    schemas = checked.spec["components"]["schemas"]
    for ref in refs(checked.spec):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


def test_the_protected_operations_declare_the_bearer_scheme(checked: Checked) -> None:
    schemes = checked.spec["components"]["securitySchemes"]
    assert list(schemes) == ["bearer"]
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    protected = {
        (path, method)
        for path, item in checked.spec["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == [{"bearer": []}]
    }
    api = {
        (path, method)
        for path, item in checked.spec["paths"].items()
        for method in item
        if path.startswith(
            (
                "/images/v1",
                "/images/v2",
                "/usage",
                "/transform",
                "/info",
                "/stream/live_inputs",
                "/stream/videos",
            )
        )
    }
    assert protected == api
    # And the token is really asked for: each protected operation refuses a request without.
    assert all(
        "4XX" in checked.spec["paths"][path][method]["responses"] for path, method in protected
    )


def test_bodies_are_published_as_their_media_types(checked: Checked) -> None:
    paths = checked.spec["paths"]
    upload = paths["/images/v1"]["post"]["requestBody"]["content"]["multipart/form-data"]
    parts = checked.spec["components"]["schemas"][upload["schema"]["$ref"].rsplit("/", 1)[1]]
    file = parts["properties"]["file"]
    assert (file["type"], file["format"]) == ("string", "binary")
    transform = paths["/transform"]["post"]
    assert "multipart/form-data" in transform["requestBody"]["content"]
    assert {"image/avif", "image/webp", "image/jpeg", "image/png", "image/gif"} <= set(
        transform["responses"]["200"]["content"]
    )
    variant = paths["/images/v1/variants"]["post"]["requestBody"]["content"]
    assert variant["application/json"]["schema"] == {"$ref": "#/components/schemas/VariantBody"}


def _chain_document() -> str:
    chain = Images().input(b"base").transform(width=40)
    flat_chain, _ = chain.flat_chain("image/webp", 60, False)
    return json.dumps(flat_chain.to_json())


def test_real_answers_hold_to_the_published_schema(
    server: RunningServer, client: httpx.Client, checked: Checked
) -> None:
    check = checked.check
    photo = read_photo("chelsea")
    (server.origin / "photo.png").write_bytes(photo)

    # Hosted images: upload, list, read, change, the original, delivery.
    image = check(
        client.post(
            "/images/v1",
            headers=AUTH,
            files={"file": ("photo.png", photo)},
            data={"metadata": '{"alt": "a cat"}', "requireSignedURLs": "false"},
        ),
        "/images/v1",
    ).json()["result"]
    image_id = image["id"]
    check(client.post("/images/v1", headers=AUTH, data={"id": "x"}), "/images/v1")
    check(client.post("/images/v1", files={"file": ("a.png", photo)}), "/images/v1")
    check(client.get("/images/v1", headers=AUTH), "/images/v1")
    check(client.get("/images/v1?per_page=abc", headers=AUTH), "/images/v1")
    check(client.get("/images/v1", headers={"Authorization": "Bearer wrong"}), "/images/v1")
    check(client.get("/images/v2?per_page=10", headers=AUTH), "/images/v2")
    check(client.get("/images/v2?sort_order=up", headers=AUTH), "/images/v2")
    check(client.get("/images/v1/stats", headers=AUTH), "/images/v1/stats")
    check(client.get("/images/v1/stats"), "/images/v1/stats")
    one = "/images/v1/{image_id}"
    check(client.get(f"/images/v1/{image_id}", headers=AUTH), one)
    check(client.get("/images/v1/missing", headers=AUTH), one)
    changes = {"metadata": {"alt": "still a cat"}, "requireSignedURLs": False}
    check(client.patch(f"/images/v1/{image_id}", headers=AUTH, json=changes), one)
    check(client.patch(f"/images/v1/{image_id}", headers=AUTH, json={"metadata": 1}), one)
    blob = "/images/v1/{image_id}/blob"
    check(client.get(f"/images/v1/{image_id}/blob", headers=AUTH), blob)
    check(client.get("/images/v1/missing/blob", headers=AUTH), blob)
    faces = "/images/v1/{image_id}/faces"
    check(client.get(f"/images/v1/{image_id}/faces", headers=AUTH), faces)
    check(client.get("/images/v1/missing/faces", headers=AUTH), faces)

    # Variants.
    variants = "/images/v1/variants"
    variant = {"id": "thumb", "options": {"fit": "cover", "width": 64, "height": 64}}
    check(client.post(variants, headers=AUTH, json=variant), variants)
    check(client.post(variants, headers=AUTH, json={"options": {"fit": 3}}), variants)
    check(client.get(variants, headers=AUTH), variants)
    check(client.get(variants), variants)
    named = "/images/v1/variants/{name}"
    check(client.get(f"{variants}/thumb", headers=AUTH), named)
    check(client.get(f"{variants}/none", headers=AUTH), named)
    check(client.patch(f"{variants}/thumb", headers=AUTH, json={"options": {"width": 32}}), named)
    check(client.patch(f"{variants}/thumb", headers=AUTH, content=b"{"), named)

    short = "/images/{image_id}/{variant}"
    full = "/cdn-cgi/imagedelivery/{account_hash}/{image_id}/{variant}"
    check(client.get(f"/images/{image_id}/thumb", headers={"Accept": "image/webp"}), short)
    check(client.head(f"/images/{image_id}/thumb"), short)
    check(client.get(f"/images/{image_id}/nothing"), short)
    check(client.get(f"/cdn-cgi/imagedelivery/account/{image_id}/thumb"), full)
    check(client.head(f"/cdn-cgi/imagedelivery/account/{image_id}/thumb"), full)
    check(client.get(f"/cdn-cgi/imagedelivery/account/{image_id}/width=abc"), full)
    check(client.delete(f"{variants}/thumb", headers=AUTH), named)
    check(client.delete(f"{variants}/thumb", headers=AUTH), named)

    # The hosted API's settings.
    config = "/images/v1/config"
    check(client.get(config, headers=AUTH), config)
    check(client.get(config), config)
    check(client.patch(config, headers=AUTH, json={"flexible_variants": True}), config)
    check(client.patch(config, headers=AUTH, json={"flexible_variants": "yes"}), config)

    # Direct uploads: a draft, then its one-time URL.
    direct = check(
        client.post("/images/v2/direct_upload", headers=AUTH, data={"expiry": "600"}),
        "/images/v2/direct_upload",
    ).json()["result"]
    check(
        client.post("/images/v2/direct_upload", headers=AUTH, data={"expiry": "soon"}),
        "/images/v2/direct_upload",
    )
    check(
        client.post("/images/v2/direct_upload", headers=AUTH, json={"expiry": 600}),
        "/images/v2/direct_upload",
    )
    text_body = {**AUTH, "Content-Type": "text/plain"}
    check(
        client.post("/images/v2/direct_upload", headers=text_body, content=b"expiry=600"),
        "/images/v2/direct_upload",
    )
    check(client.get(f"/images/v1/{direct['id']}", headers=AUTH), one)  # a draft
    signed = httpx.URL(direct["uploadURL"])
    direct_path, file = "/upload/{image_id}", {"file": ("a.png", photo)}
    check(client.post(signed.path, files=file), direct_path)  # no signature
    check(client.post(signed.raw_path.decode(), files=file), direct_path)
    check(client.post(signed.raw_path.decode(), files=file), direct_path)  # used already

    # Signing keys, then deletion.
    check(client.get("/images/v1/keys", headers=AUTH), "/images/v1/keys")
    check(client.get("/images/v1/keys", headers={"Authorization": "Basic x"}), "/images/v1/keys")
    check(client.put("/images/v1/keys/rotate", headers=AUTH), "/images/v1/keys/rotate")
    check(client.put("/images/v1/keys/rotate"), "/images/v1/keys/rotate")
    check(client.delete(f"/images/v1/{image_id}", headers=AUTH), one)
    check(client.delete(f"/images/v1/{image_id}", headers=AUTH), one)

    # Usage: JSON when asked well, text when refused.
    check(client.get("/usage", headers=AUTH), "/usage")
    check(client.get("/usage?from=2026-01-01&to=2026-01-31", headers=AUTH), "/usage")
    check(client.get("/usage?from=january", headers=AUTH), "/usage")
    check(client.get("/usage"), "/usage")

    # The Images API.
    inputs = {input_part(0): ("photo.png", photo)}
    check(client.post("/info", headers=AUTH, files=inputs), "/info")
    check(client.post("/info", headers=AUTH, files={"other": ("a", b"x")}), "/info")
    check(client.post("/info", files=inputs), "/info")
    chain = {CHAIN_PART: (None, _chain_document(), "application/json")}
    check(client.post("/transform", headers=AUTH, files={**inputs, **chain}), "/transform")
    check(client.post("/transform", headers=AUTH, files=inputs), "/transform")

    # URL delivery and originals.
    image_url = "/cdn-cgi/image/{options}/{source}"
    check(client.get("/cdn-cgi/image/width=50/photo.png"), image_url)
    check(client.head("/cdn-cgi/image/width=50/photo.png"), image_url)
    check(client.get("/cdn-cgi/image/width=huge/photo.png"), image_url)
    check(client.get("/cdn-cgi/image/width=50/missing.png"), image_url)
    check(client.get("/originals/photo.png"), "/originals/{path}")
    check(client.get("/originals/missing.png"), "/originals/{path}")
    check(client.head("/originals/photo.png"), "/originals/{path}")

    # Every published operation was answered, and each JSON API one both well and badly.
    published = {
        (path, method)
        for path, item in checked.spec["paths"].items()
        for method in item
        if path not in UNCHECKED
        # The live-stream routes publish no answer models yet: their answers are held to
        # the product's shapes by tests/stream instead.
        and not path.startswith("/stream/")
    }
    assert published == set(checked.seen)
    one_sided = {
        (path, method): statuses
        for (path, method), statuses in checked.seen.items()
        if method != "head" and not (min(statuses) < 300 and max(statuses) >= 400)
    }
    assert not one_sided
