"""The server on each catalog backend, chosen as a deployment would: FOCAL_CATALOG_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from conftest import read_photo, running_server
from focal.catalog.schema import face_boxes, images
from focal.config import load_settings

TOKEN = "backend-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def result(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["result"]
    return body


def rows_of(url: str) -> tuple[int, int]:
    """(images, face box sets) in the catalog, read past the server."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counts = [
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (images, face_boxes)
            ]
    finally:
        engine.dispose()
    return counts[0], counts[1]


def test_the_hosted_api_on_the_configured_catalog(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        environ={"FOCAL_CATALOG_URL": database_url},
        data_dir=tmp_path / "data",
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        flexible_variants=True,
    )
    assert settings.catalog_url == database_url
    photo = read_photo("grace_hopper")
    with running_server(settings) as server, server.client() as client:
        upload = client.post(
            "/images/v1",
            headers=AUTH,
            files={"file": ("grace.jpg", photo)},
            data={"id": "people/grace", "metadata": '{"team": "navy"}'},
        )
        assert result(upload)["metadata"] == {"team": "navy"}
        variant = {"id": "thumb", "options": {"fit": "cover", "width": 64, "height": 64}}
        assert result(client.post("/images/v1/variants", headers=AUTH, json=variant))
        listed = result(client.get("/images/v2", headers=AUTH))["images"]
        assert [image["id"] for image in listed] == ["people/grace"]
        assert client.get("/images/people/grace/thumb").status_code == 200
        face = client.get("/images/people/grace/w=100,h=100,fit=cover,gravity=face")
        assert face.status_code == 200
        assert rows_of(database_url) == (1, 1)  # the record, and the boxes found once
        assert result(client.delete("/images/v1/people/grace", headers=AUTH)) == {}
        assert client.get("/images/people/grace/thumb").status_code == 404
    assert rows_of(database_url) == (0, 1)
