"""The catalog: metadata in SQL (SQLite by default, PostgreSQL by URL), via SQLAlchemy Core."""

from focal.catalog.engine import catalog_url, open_catalog
from focal.catalog.faces import FaceBoxStore, StoredFaces

__all__ = ["FaceBoxStore", "StoredFaces", "catalog_url", "open_catalog"]
