"""The catalog's tables, as SQLAlchemy Core definitions (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

# Face boxes per original, by content hash: boxes and scores only, nothing that identifies.
face_boxes = Table(
    "face_boxes",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("faces", Text, nullable=False),  # JSON list of {box, score}
    Column("detected_at", Float, nullable=False),
)
