"""Settings of the hosted API kept in the catalog (PATCH /images/v1/config), so every
server of a fleet sees one value and a restart keeps it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update

from focal.catalog.schema import hosted_config
from focal.catalog.store import Store, lock_catalog


class ConfigStore(Store):
    def hosted_settings(self) -> dict[str, Any]:
        """The settings changed so far, by name; a name absent has the server's default."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(hosted_config)).all()
        return {name: json.loads(value) for name, value in rows}

    def change_hosted_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Write `changes` (JSON values) in one transaction; returns all changed settings."""
        with self.engine.begin() as connection:
            lock_catalog(connection)
            for name, value in changes.items():
                text = json.dumps(value)
                where = hosted_config.c.name == name
                if (
                    connection.execute(
                        update(hosted_config).where(where).values(value=text)
                    ).rowcount
                    == 0
                ):
                    connection.execute(insert(hosted_config).values(name=name, value=text))
        return self.hosted_settings()
