"""Versioned schema migrations: each step runs once, in order, inside one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.pool import NullPool

from focal.catalog import schema
from focal.catalog.usage import DAY_MICROS, Metric, add_usage
from focal.options import canonical, options_from_mapping

MIGRATION_LOCK = 0x466F63616C  # "Focal": the advisory lock key of migrations on PostgreSQL
MIGRATION_WAIT_SECONDS = 60  # how long a server waits for another's migration on SQLite


# The variants table as version 2 made it (fit, width, height, metadata only); version 5
# replaced it by schema.variants, which keeps any option string.
_V2_VARIANTS = Table(
    "variants",
    MetaData(),
    Column("name", String(100), primary_key=True),
    Column("fit", String(16), nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("metadata_mode", String(16), nullable=False),
    Column("never_require_signed_urls", Boolean, nullable=False),
)


def _v1_face_boxes(connection: Connection) -> None:
    schema.face_boxes.create(connection)


def _v2_hosted_images(connection: Connection) -> None:
    for table in (schema.images, _V2_VARIANTS, schema.signing_keys, schema.api_tokens):
        table.create(connection)
    # The default variant: the original's size, re-encoded, without its metadata (EXIF can
    # carry a location). Written here, not in code, so deleting or editing it sticks.
    connection.execute(
        _V2_VARIANTS.insert().values(
            name="public",
            fit="scale-down",
            width=None,
            height=None,
            metadata_mode="none",
            never_require_signed_urls=False,
        )
    )


def _v3_usage(connection: Connection) -> None:
    schema.metered_transformations.create(connection)
    schema.usage_daily.create(connection)
    # Images stored before metering began count as added on the day of their upload.
    day = schema.images.c.uploaded // DAY_MICROS
    stored = select(day, func.count()).where(~schema.images.c.draft).group_by(day)
    for number, count in connection.execute(stored).all():
        add_usage(connection, Metric.IMAGES_ADDED, int(number), int(count))


def _v4_blob_keys(connection: Connection) -> None:
    # A catalog made at v2 by this code already has the columns: schema.images is current.
    present = {column["name"] for column in inspect(connection).get_columns("images")}
    for name in ("blob_key", "upload_owner"):
        if name not in present:
            connection.exec_driver_sql(f"ALTER TABLE images ADD COLUMN {name} TEXT")
    # Originals stored so far are at images/<id>/<content hash>: they stay there.
    table = schema.images
    legacy = literal("images/") + table.c.id + literal("/") + table.c.content_hash
    connection.execute(
        update(table)
        .where(~table.c.draft, table.c.content_hash.is_not(None), table.c.blob_key.is_(None))
        .values(blob_key=legacy)
    )


def _v5_variant_options(connection: Connection) -> None:
    # Variants keep every URL option: each old one becomes its canonical option string.
    schema.variants.create(connection)
    schema.hosted_config.create(connection)
    for row in connection.execute(select(_V2_VARIANTS)).mappings().all():
        options = options_from_mapping(
            {
                "fit": row["fit"],
                "width": row["width"],
                "height": row["height"],
                "metadata": row["metadata_mode"],
            }
        )
        connection.execute(
            schema.variants.insert().values(
                name=row["name"],
                options=canonical(options),
                browser_ttl=None,
                never_require_signed_urls=bool(row["never_require_signed_urls"]),
            )
        )
    _V2_VARIANTS.drop(connection)


def _v6_live_streams(connection: Connection) -> None:
    for table in (schema.live_inputs, schema.stream_videos, schema.stream_segments):
        table.create(connection)


def _v7_calls(connection: Connection) -> None:
    schema.calls_apps.create(connection)
    schema.calls_egress_daily.create(connection)


# Append new steps; never edit or reorder a released one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_face_boxes,
    _v2_hosted_images,
    _v3_usage,
    _v4_blob_keys,
    _v5_variant_options,
    _v6_live_streams,
    _v7_calls,
)


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table("schema_version"):
        return 0
    version = connection.execute(select(schema.schema_version.c.version)).scalar()
    return int(version or 0)


def _apply(connection: Connection) -> int:
    version = current_version(connection)
    if version == 0:
        schema.schema_version.create(connection, checkfirst=True)
        connection.execute(schema.schema_version.insert().values(version=0))
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        step(connection)
        connection.execute(schema.schema_version.update().values(version=number))
    return len(MIGRATIONS)


def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would run DDL outside any transaction; SQLAlchemy's begin event says BEGIN.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before reading the version


def migrate(engine: Engine) -> int:
    """Bring the catalog to the latest version; returns that version.

    Servers that start together on a new catalog take turns: the version is read and the
    steps run under a lock held to the end of one transaction (PostgreSQL: an advisory lock;
    SQLite: BEGIN IMMEDIATE, on a connection of its own where DDL is transactional too).
    """
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        exclusive = create_engine(
            engine.url, poolclass=NullPool, connect_args={"timeout": MIGRATION_WAIT_SECONDS}
        )
        event.listen(exclusive, "connect", _manual_transactions)
        event.listen(exclusive, "begin", _begin_immediate)
        try:
            with exclusive.begin() as connection:
                return _apply(connection)
        finally:
            exclusive.dispose()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        return _apply(connection)
