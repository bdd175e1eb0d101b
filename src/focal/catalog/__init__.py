"""The catalog: metadata in SQL (SQLite by default, PostgreSQL by URL), via SQLAlchemy Core."""

from focal.catalog.engine import catalog_url, open_catalog
from focal.catalog.faces import FaceBoxStore, StoredFaces
from focal.catalog.hosted import HostedCatalog, ImageRecord, VariantRecord
from focal.catalog.images import encode_metadata, new_image_id, validate_image_id
from focal.catalog.usage import DayUsage, Metric, QuotaReached, UsageStore

__all__ = [
    "DayUsage",
    "FaceBoxStore",
    "HostedCatalog",
    "ImageRecord",
    "Metric",
    "QuotaReached",
    "StoredFaces",
    "UsageStore",
    "VariantRecord",
    "catalog_url",
    "encode_metadata",
    "new_image_id",
    "open_catalog",
    "validate_image_id",
]
