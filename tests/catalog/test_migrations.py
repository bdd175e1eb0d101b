"""Schema migrations: a catalog of any earlier version reaches the latest and keeps its data."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text

from focal.catalog import (
    FaceBoxStore,
    HostedCatalog,
    StoredFaces,
    UsageStore,
    VariantRecord,
    migrations,
    open_catalog,
)
from focal.catalog.schema import images, schema_version
from focal.catalog.times import to_micros

BOXES = StoredFaces(640, 480, [{"box": [1.0, 2.0, 30.0, 40.0], "score": 0.99}])
HOSTED_TABLES = {"images", "variant_options", "signing_keys", "api_tokens"}


def version_of(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.execute(select(schema_version.c.version)).scalar_one()
    engine.dispose()
    return int(version)


def test_a_v1_catalog_migrates_to_the_latest_keeping_its_face_boxes(
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
    assert version_of(url) == len(migrations.MIGRATIONS)
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
    assert migrations.migrate(engine) == len(migrations.MIGRATIONS)
    engine.dispose()
    again = open_catalog(url)
    assert version_of(url) == len(migrations.MIGRATIONS)
    assert HostedCatalog(again).list_variants() == []
    assert FaceBoxStore(again, "model-a").get("hash-1") == BOXES
    again.dispose()


def test_images_stored_before_metering_count_from_their_upload_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'focal.db'}"
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        old = open_catalog(url)
        with old.begin() as connection:  # rows as a version-2 server wrote them
            for n, uploaded in enumerate([day, day, day + timedelta(days=2)]):
                connection.execute(images.insert().values(**stored_image(f"img-{n}", uploaded)))
            connection.execute(images.insert().values(**stored_image("draft", day, draft=True)))
        old.dispose()

    engine = open_catalog(url)
    days = UsageStore(engine).daily(day.date(), day.date() + timedelta(days=3))
    assert [d.images_stored for d in days] == [2, 2, 3, 3]
    engine.dispose()


def stored_image(image_id: str, uploaded: datetime, draft: bool = False) -> dict[str, Any]:
    return {
        "id": image_id,
        "metadata_json": "{}",
        "require_signed_urls": False,
        "uploaded": to_micros(uploaded),
        "draft": draft,
    }


MIGRATE = """
import sys
from focal.catalog import open_catalog
open_catalog(sys.argv[1]).dispose()
"""


def test_servers_starting_together_on_a_new_catalog_take_turns(database_url: str) -> None:
    # Real processes, as servers are; each opens (and so migrates) the same empty catalog.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()[-2000:]
    assert version_of(database_url) == len(migrations.MIGRATIONS)
    engine = open_catalog(database_url)
    assert [v.name for v in HostedCatalog(engine).list_variants()] == ["public"]
    engine.dispose()


def test_originals_stored_before_v4_keep_their_blob_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'focal.db'}"
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        old = open_catalog(url)
        with old.begin() as connection:  # the table and rows as a version-3 server made them
            for column in ("blob_key", "upload_owner"):
                connection.execute(text(f"ALTER TABLE images DROP COLUMN {column}"))
            for image_id in ("team", "team/group"):
                row = {**stored_image(image_id, day), "content_hash": "ab" * 32, "size": 1}
                connection.execute(text(_insert_without_new_columns(row)), row)
            connection.execute(
                text(_insert_without_new_columns(stored_image("d", day, draft=True))),
                stored_image("d", day, draft=True),
            )
        old.dispose()

    engine = open_catalog(url)
    catalog = HostedCatalog(engine)
    for image_id in ("team", "team/group"):
        record = catalog.get_image(image_id)
        assert record is not None and record.blob_key == f"images/{image_id}/{'ab' * 32}"
    draft = catalog.get_image("d")
    assert draft is not None and draft.blob_key is None and draft.upload_owner is None
    engine.dispose()


def _insert_without_new_columns(row: dict[str, Any]) -> str:
    return f"INSERT INTO images ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"


def test_variants_of_a_v4_catalog_keep_working_as_option_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'focal.db'}"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        old = open_catalog(url)
        with old.begin() as connection:
            connection.execute(
                migrations._V2_VARIANTS.insert().values(
                    name="thumb",
                    fit="cover",
                    width=120,
                    height=80,
                    metadata_mode="keep",
                    never_require_signed_urls=True,
                )
            )
        old.dispose()
    engine = open_catalog(url)
    assert "variants" not in inspect(engine).get_table_names()
    assert HostedCatalog(engine).list_variants() == [
        VariantRecord("public", "metadata=none", False),
        VariantRecord("thumb", "fit=cover,height=80,metadata=keep,width=120", True),
    ]
    engine.dispose()
