"""Opening the catalog: SQLite in the data folder by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url

from focal.catalog.migrations import migrate
from focal.extras import missing_extra


def catalog_url(data_dir: Path, configured: str) -> str:
    if configured:
        return configured
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'focal.db').resolve()}"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer commits; the busy timeout waits out a writer.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_catalog(url: str) -> Engine:
    """An engine on a catalog migrated to the latest schema."""
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as error:  # the URL's database driver, e.g. psycopg
        raise (
            missing_extra(error, f"the catalog URL {make_url(url).drivername}://") or error
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine
