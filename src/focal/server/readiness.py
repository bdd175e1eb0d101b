"""`GET /readyz`: whether this server can do its work, as opposed to `/healthz` (it runs).

Ready when the catalog answers a query and the blob storage takes a write, a read and a
delete. The face detector's state is reported but does not decide: without it gravity=face
answers with a centre crop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from focal.catalog.schema import schema_version
from focal.faces.workers import FaceDetectors
from focal.storage.base import BlobStore
from focal.storage.keys import HEALTH_PREFIX

PROBE = b"focal readiness probe"


@dataclass(frozen=True)
class ReadinessParts:
    catalog: Engine
    blobs: BlobStore
    detectors: FaceDetectors


def _reason(error: BaseException) -> str:
    # One line: an exception's text can span several (SQLAlchemy adds a background link).
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def check_catalog(catalog: Engine) -> None:
    """A query on a table every catalog has: a database that is gone or empty fails it."""
    with catalog.connect() as connection:
        connection.execute(select(schema_version.c.version)).first()


def check_storage(blobs: BlobStore) -> None:
    """Write, read back and delete a small blob under the reserved health/ prefix."""
    key = f"{HEALTH_PREFIX}{uuid.uuid4().hex}"
    blobs.put(key, PROBE)
    try:
        if blobs.get(key) != PROBE:
            raise OSError("the probe blob read back differs from the one written")
    except BaseException:
        with contextlib.suppress(Exception):  # the failure to report is the one above
            blobs.delete(key)
        raise
    blobs.delete(key)


def _check(check: Any, part: Any) -> dict[str, str]:
    try:
        check(part)
    except Exception as error:  # any failure of the part is the answer, not an error here
        return {"status": "failing", "error": _reason(error)}
    return {"status": "ok"}


async def readiness(parts: ReadinessParts) -> tuple[int, dict[str, Any]]:
    """The status code and body of `/readyz`."""
    catalog, storage = await asyncio.gather(
        asyncio.to_thread(_check, check_catalog, parts.catalog),
        asyncio.to_thread(_check, check_storage, parts.blobs),
    )
    checks: dict[str, Any] = {"catalog": catalog, "storage": storage}
    detector: dict[str, str] = {"status": parts.detectors.state}
    if parts.detectors.start_failure is not None:
        detector["error"] = parts.detectors.start_failure
    checks["detector"] = detector
    failing = [name for name in ("catalog", "storage") if checks[name]["status"] != "ok"]
    body: dict[str, Any] = {"status": "not ready" if failing else "ready"}
    if failing:
        body["failing"] = failing
    body["checks"] = checks
    return (503 if failing else 200), body
