"""Keys for signed delivery URLs: the newest two stay valid, so a rotation breaks no live URL."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from focal.catalog.schema import signing_keys
from focal.catalog.store import Store, lock_catalog
from focal.catalog.times import now_micros

KEPT_KEYS = 2


def _newest_first(connection: Connection) -> list[tuple[str, str]]:
    query = select(signing_keys.c.name, signing_keys.c.secret).order_by(
        signing_keys.c.created.desc(), signing_keys.c.name.desc()
    )
    return [(row.name, row.secret) for row in connection.execute(query)]


def _new_key(name: str) -> dict[str, object]:
    return {"name": name, "secret": secrets.token_hex(32), "created": now_micros()}


class SigningKeyStore(Store):
    def signing_keys(self) -> list[tuple[str, str]]:
        """(name, hex secret) pairs, newest first: sign with the first, accept any."""
        with self.engine.connect() as connection:
            keys = _newest_first(connection)
        if keys:
            return keys
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(signing_keys).values(**_new_key("default")))
        except IntegrityError:
            pass  # another process created it first
        with self.engine.connect() as connection:
            return _newest_first(connection)

    def rotate_signing_key(self) -> list[tuple[str, str]]:
        """Add a new key and drop all but the newest two; returns the keys, newest first."""
        with self.engine.begin() as connection:
            lock_catalog(connection)  # rotations one at a time, or each could keep a third key
            connection.execute(
                insert(signing_keys).values(**_new_key(f"key-{secrets.token_hex(4)}"))
            )
            keys = _newest_first(connection)
            retired = [name for name, _ in keys[KEPT_KEYS:]]
            if retired:
                connection.execute(delete(signing_keys).where(signing_keys.c.name.in_(retired)))
        return keys[:KEPT_KEYS]
