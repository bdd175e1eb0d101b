"""Bearer tokens for the APIs: from FOCAL_API_TOKENS, or created with `focal token create`."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence

from fastapi import Request

from focal.catalog import HostedCatalog
from focal.errors import ErrorKind, FocalError
from focal.server.state import parts_of


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise FocalError(
            ErrorKind.NOT_AUTHENTICATED, "send an API token as 'Authorization: Bearer <token>'"
        )
    return token


async def authorize(request: Request) -> None:
    """Let the request through only with a known token."""
    parts = parts_of(request)
    await accept_token(bearer_token(request), parts.settings.api_tokens, parts.hosted_catalog)


async def accept_token(token: str, configured: Sequence[str], catalog: HostedCatalog) -> None:
    """Accept a token listed in FOCAL_API_TOKENS (`configured`) or created in the catalog."""
    if any(hmac.compare_digest(token.encode(), known.encode()) for known in configured):
        return
    if await asyncio.to_thread(catalog.check_token, token):
        return
    raise FocalError(
        ErrorKind.ACCESS_DENIED,
        "this API token is not accepted here: create one with `focal token create NAME` "
        "or list it in FOCAL_API_TOKENS",
    )
