"""Named delivery variants: how a hosted image is delivered when asked for by name.

A variant's options are stored as the URL form's canonical option string. They are checked
once, by focal.options, before they get here (focal.service.hosted.checked_variant_options);
the catalog checks only what is its own: the name and the number of variants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from focal.catalog.schema import variants
from focal.catalog.store import Store, lock_catalog
from focal.errors import ErrorKind, FocalError

MAX_VARIANTS = 100
# No "=" or ",": a delivery path segment with them is a flexible variant (an option string).
_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class VariantRecord:
    name: str
    options: str  # the canonical option string of the URL form; "" for the defaults
    never_require_signed_urls: bool
    browser_ttl: int | None = None  # seconds; None: the server's FOCAL_BROWSER_TTL


def _row_values(variant: VariantRecord) -> dict[str, Any]:
    if not _NAME_PATTERN.fullmatch(variant.name):
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"variant name {variant.name!r}: use 1 to 100 letters, digits, '-' or '_'",
        )
    return {
        "name": variant.name,
        "options": variant.options,
        "browser_ttl": variant.browser_ttl,
        "never_require_signed_urls": variant.never_require_signed_urls,
    }


def _record(row: Mapping[Any, Any]) -> VariantRecord:
    return VariantRecord(
        name=row["name"],
        options=row["options"],
        never_require_signed_urls=bool(row["never_require_signed_urls"]),
        browser_ttl=row["browser_ttl"],
    )


class VariantStore(Store):
    def list_variants(self) -> list[VariantRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(variants).order_by(variants.c.name))
            return [_record(row._mapping) for row in rows]

    def get_variant(self, name: str) -> VariantRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(variants).where(variants.c.name == name)).first()
        return None if row is None else _record(row._mapping)

    def put_variant(self, variant: VariantRecord, *, create: bool) -> VariantRecord:
        """Create a new variant (create=True) or replace an existing one (create=False)."""
        values = _row_values(variant)
        try:
            with self.engine.begin() as connection:
                if create:
                    # Counted after the insert, in its transaction: one too many rolls back.
                    lock_catalog(connection)
                    connection.execute(insert(variants).values(**values))
                    count = connection.execute(select(func.count()).select_from(variants))
                    if count.scalar_one() > MAX_VARIANTS:
                        raise FocalError(
                            ErrorKind.BAD_REQUEST,
                            f"at most {MAX_VARIANTS} variants; delete one to make room",
                        )
                else:
                    replace = update(variants).where(variants.c.name == variant.name)
                    if connection.execute(replace.values(**values)).rowcount == 0:
                        raise FocalError(ErrorKind.NOT_FOUND, f"no variant {variant.name!r}")
        except IntegrityError:
            raise FocalError(
                ErrorKind.CONFLICT, f"variant {variant.name!r} already exists"
            ) from None
        return _record(values)

    def delete_variant(self, name: str) -> bool:
        with self.engine.begin() as connection:
            return connection.execute(delete(variants).where(variants.c.name == name)).rowcount > 0
