"""Versioned schema migrations: each step runs once, in order, inside one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, inspect, select

from focal.catalog import schema
from focal.catalog.usage import DAY_MICROS, Metric, add_usage


def _v1_face_boxes(connection: Connection) -> None:
    schema.face_boxes.create(connection)


def _v2_hosted_images(connection: Connection) -> None:
    for table in (schema.images, schema.variants, schema.signing_keys, schema.api_tokens):
        table.create(connection)
    # The default variant: the original's size, re-encoded, without its metadata (EXIF can
    # carry a location). Written here, not in code, so deleting or editing it sticks.
    connection.execute(
        schema.variants.insert().values(
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


# Append new steps; never edit or reorder a released one.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_face_boxes,
    _v2_hosted_images,
    _v3_usage,
)


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table("schema_version"):
        return 0
    version = connection.execute(select(schema.schema_version.c.version)).scalar()
    return int(version or 0)


def migrate(engine: Engine) -> int:
    """Bring the catalog to the latest version; returns that version."""
    with engine.begin() as connection:
        version = current_version(connection)
        if version == 0:
            schema.schema_version.create(connection, checkfirst=True)
            connection.execute(schema.schema_version.insert().values(version=0))
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(connection)
            connection.execute(schema.schema_version.update().values(version=number))
        return len(MIGRATIONS)
