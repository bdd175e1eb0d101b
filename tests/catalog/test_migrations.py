"""Schema migrations: a catalog of any earlier version reaches the latest and keeps its data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from focal.catalog import FaceBoxStore, HostedCatalog, StoredFaces, migrations, open_catalog
from focal.catalog.schema import schema_version

BOXES = StoredFaces(640, 480, [{"box": [1.0, 2.0, 30.0, 40.0], "score": 0.99}])
HOSTED_TABLES = {"images", "variants", "signing_keys", "api_tokens"}


def version_of(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.execute(select(schema_version.c.version)).scalar_one()
    engine.dispose()
    return int(version)


def test_a_v1_catalog_migrates_to_v2_keeping_its_face_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'focal.db'}"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        old = open_catalog(url)
        FaceBoxStore(old, "model-a").put("hash-1", BOXES)
        assert not HOSTED_TABLES & set(inspect(old).get_table_names())
        old.dispose()
    assert version_of(url) == 1

    engine = open_catalog(url)
    assert version_of(url) == len(migrations.MIGRATIONS) == 2
    assert set(inspect(engine).get_table_names()) >= HOSTED_TABLES
    assert FaceBoxStore(engine, "model-a").get("hash-1") == BOXES
    assert [v.name for v in HostedCatalog(engine).list_variants()] == ["public"]
    engine.dispose()


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'focal.db'}"
    engine = open_catalog(url)
    catalog = HostedCatalog(engine)
    catalog.delete_variant("public")  # a user's choice the migration must not undo
    FaceBoxStore(engine, "model-a").put("hash-1", BOXES)
    assert migrations.migrate(engine) == 2
    engine.dispose()
    again = open_catalog(url)
    assert version_of(url) == 2
    assert HostedCatalog(again).list_variants() == []
    assert FaceBoxStore(again, "model-a").get("hash-1") == BOXES
    again.dispose()
