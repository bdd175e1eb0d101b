"""The base of the catalog's stores: each method is one transaction on one engine."""

from __future__ import annotations

from sqlalchemy import Engine


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
