"""Bearer tokens of the management API, kept as SHA-256 hashes: the secret is shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy import insert, select, update

from focal.catalog.schema import api_tokens
from focal.catalog.store import Store, checked_text
from focal.catalog.times import from_micros, now_micros
from focal.errors import ErrorKind, FocalError

SECRET_PREFIX = "focal_"  # lets secret scanners and people recognise a leaked token


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore(Store):
    def create_token(self, name: str) -> tuple[str, str]:
        """A new token: (its id, its secret). Only the hash of the secret is stored."""
        name = checked_text(name, "a token name").strip()
        if not 0 < len(name) <= 100:
            raise FocalError(ErrorKind.BAD_REQUEST, "a token name has 1 to 100 characters")
        token_id = uuid.uuid4().hex
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": token_id,
            "name": name,
            "secret_hash": _digest(secret),
            "created": now_micros(),
            "revoked_at": None,
        }
        with self.engine.begin() as connection:
            connection.execute(insert(api_tokens).values(**row))
        return token_id, secret

    def list_tokens(self) -> list[dict[str, Any]]:
        """id, name, created, revoked, revoked_at (UTC) of every token, oldest first."""
        query = select(
            api_tokens.c.id, api_tokens.c.name, api_tokens.c.created, api_tokens.c.revoked_at
        ).order_by(api_tokens.c.created, api_tokens.c.id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "id": row.id,
                "name": row.name,
                "created": from_micros(int(row.created)),
                "revoked": row.revoked_at is not None,
                "revoked_at": None if row.revoked_at is None else from_micros(row.revoked_at),
            }
            for row in rows
        ]

    def revoke_token(self, token_id: str) -> bool:
        """True if the token was live and now is not."""
        revoke = (
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now_micros())
        )
        with self.engine.begin() as connection:
            return connection.execute(revoke).rowcount == 1

    def check_token(self, secret: str) -> bool:
        if not secret:
            return False
        digest = _digest(secret)
        # The lookup is by hash, so its timing tells nothing about the secret itself.
        query = select(api_tokens.c.secret_hash).where(
            api_tokens.c.secret_hash == digest, api_tokens.c.revoked_at.is_(None)
        )
        with self.engine.connect() as connection:
            stored = connection.execute(query).scalar()
        return stored is not None and hmac.compare_digest(stored, digest)
