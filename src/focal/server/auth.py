"""Bearer tokens for the APIs: from FOCAL_API_TOKENS, or created with `focal token create`."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import Request

from focal.catalog import HostedCatalog
from focal.config import Settings
from focal.errors import ErrorKind, FocalError


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
    token = bearer_token(request)
    settings: Settings = request.app.state.delivery.settings
    if any(hmac.compare_digest(token.encode(), known.encode()) for known in settings.api_tokens):
        return
    catalog: HostedCatalog = request.app.state.hosted.catalog
    if await asyncio.to_thread(catalog.check_token, token):
        return
    raise FocalError(
        ErrorKind.ACCESS_DENIED,
        "this API token is not accepted here: create one with `focal token create NAME` "
        "or list it in FOCAL_API_TOKENS",
    )
