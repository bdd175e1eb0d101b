"""The base of the catalog's stores: each method is one transaction on one engine."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, update

from focal.catalog.schema import schema_version
from focal.errors import ErrorKind, FocalError


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def lock_catalog(connection: Connection) -> None:
    """Hold the catalog's write lock until this transaction ends.

    For checks over a whole table (at most 100 variants, the newest two keys): PostgreSQL
    runs writers side by side, so two of them could each see room for one more. A no-op
    update of the single schema_version row makes them wait for each other there; SQLite
    takes its database write lock at the same statement. Call it first in the transaction.
    """
    connection.execute(update(schema_version).values(version=schema_version.c.version))


def checked_text(value: str, what: str) -> str:
    """Text any backend stores as given: PostgreSQL refuses NUL characters, and neither
    backend takes a lone surrogate, which has no UTF-8 form."""
    if "\x00" in value:
        raise FocalError(ErrorKind.BAD_REQUEST, f"{what} must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise FocalError(ErrorKind.BAD_REQUEST, f"{what} is not valid Unicode text") from None
    return value
