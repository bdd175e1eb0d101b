"""Calls: the SFU's applications (each secret kept as its SHA-256 only) and their egress."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from focal.catalog.schema import calls_apps, calls_egress_daily
from focal.catalog.store import Store, checked_text
from focal.catalog.times import from_micros, now_micros
from focal.catalog.usage import Metric, add_usage, date_number
from focal.errors import ErrorKind, FocalError

APP_SECRET_PREFIX = "focal_calls_"  # lets secret scanners and people recognise a leaked one


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class CallsApp:
    id: str
    name: str
    created: str  # ISO 8601, UTC

    def shown(self) -> dict[str, str]:
        return {"appId": self.id, "name": self.name, "created": self.created}


def _app(row: Row[Any]) -> CallsApp:
    return CallsApp(str(row.id), str(row.name), from_micros(int(row.created)).isoformat())


class CallsAppStore(Store):
    def create_app(self, name: str) -> tuple[CallsApp, str]:
        """A new app and its secret; only the secret's hash is stored."""
        name = checked_text(name, "an app name").strip()
        if not 0 < len(name) <= 100:
            raise FocalError(ErrorKind.BAD_REQUEST, "an app name has 1 to 100 characters")
        secret = APP_SECRET_PREFIX + secrets.token_urlsafe(32)
        app_id, created = uuid.uuid4().hex, now_micros()
        row = {"id": app_id, "name": name, "secret_hash": _digest(secret), "created": created}
        with self.engine.begin() as connection:
            connection.execute(insert(calls_apps).values(**row))
        return CallsApp(app_id, name, from_micros(created).isoformat()), secret

    def list_apps(self) -> list[CallsApp]:
        query = select(calls_apps).order_by(calls_apps.c.created, calls_apps.c.id)
        with self.engine.connect() as connection:
            return [_app(row) for row in connection.execute(query)]

    def get_app(self, app_id: str) -> CallsApp | None:
        query = select(calls_apps).where(calls_apps.c.id == app_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _app(row)

    def delete_app(self, app_id: str) -> bool:
        with self.engine.begin() as connection:
            return (
                connection.execute(delete(calls_apps).where(calls_apps.c.id == app_id)).rowcount
                == 1
            )

    def check_secret(self, app_id: str, secret: str) -> bool:
        """True only for the secret of this very app: another app's secret opens nothing."""
        if not secret:
            return False
        query = select(calls_apps.c.secret_hash).where(calls_apps.c.id == app_id)
        with self.engine.connect() as connection:
            stored = connection.execute(query).scalar()
        return stored is not None and hmac.compare_digest(stored, _digest(secret))

    def add_egress(self, day: int, by_app: Mapping[str, int]) -> None:
        """Add bytes sent to clients on `day`, per app, and their total, in one transaction."""
        with self.engine.begin() as connection:
            for app_id, amount in by_app.items():
                values = {"day": day, "app_id": app_id, "bytes": amount}
                changes = {"bytes": calls_egress_daily.c.bytes + amount}
                keys = ["day", "app_id"]
                if connection.dialect.name == "postgresql":
                    upsert = postgresql.insert(calls_egress_daily).values(**values)
                    connection.execute(
                        upsert.on_conflict_do_update(index_elements=keys, set_=changes)
                    )
                elif connection.dialect.name == "sqlite":
                    lite = sqlite.insert(calls_egress_daily).values(**values)
                    connection.execute(
                        lite.on_conflict_do_update(index_elements=keys, set_=changes)
                    )
                else:  # pragma: no cover - the two backends Focal supports are above
                    where = (calls_egress_daily.c.day == day, calls_egress_daily.c.app_id == app_id)
                    if (
                        connection.execute(
                            update(calls_egress_daily).where(*where).values(**changes)
                        ).rowcount
                        == 0
                    ):
                        connection.execute(insert(calls_egress_daily).values(**values))
            add_usage(connection, Metric.CALLS_EGRESS_BYTES, day, sum(by_app.values()))

    def egress_by_app(self, first: date, last: date) -> dict[str, int]:
        """Bytes sent to clients per app from `first` to `last` (UTC days, both included)."""
        query = (
            select(calls_egress_daily.c.app_id, func.sum(calls_egress_daily.c.bytes))
            .where(
                calls_egress_daily.c.day >= date_number(first),
                calls_egress_daily.c.day <= date_number(last),
            )
            .group_by(calls_egress_daily.c.app_id)
        )
        with self.engine.connect() as connection:
            return {str(app): int(total) for app, total in connection.execute(query)}
