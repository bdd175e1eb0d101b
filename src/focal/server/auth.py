"""Bearer tokens for the APIs: from FOCAL_API_TOKENS, or created with `focal token create`.

`AUTHORIZED` is the dependency of every protected route: OpenAPI shows it as the `bearer`
security scheme, and a missing or unknown token gets Focal's own 401 or 403 (in the shape
of the path's API, by the app's FocalError handler), never FastAPI's.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.params import Depends as Dependency
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from focal.catalog import HostedCatalog
from focal.errors import ErrorKind, FocalError
from focal.server.state import parts_of

# auto_error=False: the scheme only reads the header; the refusals below are Focal's.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="an API token: `focal token create NAME`, or one of FOCAL_API_TOKENS",
)


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:  # no header, another scheme, or an empty token
        raise FocalError(
            ErrorKind.NOT_AUTHENTICATED, "send an API token as 'Authorization: Bearer <token>'"
        )
    return credentials.credentials


async def accept_token(token: str, configured: Sequence[str], catalog: HostedCatalog) -> bool:
    """The one place tokens are looked up: FOCAL_API_TOKENS (`configured`), then the catalog's."""
    if any(hmac.compare_digest(token.encode(), known.encode()) for known in configured):
        return True
    return await asyncio.to_thread(catalog.check_token, token)


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> None:
    """Let the request through only with a known token."""
    parts = parts_of(request)
    token = bearer_token(credentials)
    if await accept_token(token, parts.settings.api_tokens, parts.hosted_catalog):
        return
    raise FocalError(
        ErrorKind.ACCESS_DENIED,
        "this API token is not accepted here: create one with `focal token create NAME` "
        "or list it in FOCAL_API_TOKENS",
    )


# `dependencies=AUTHORIZED` on a route: it runs before the handler, which reads the body.
AUTHORIZED: list[Dependency] = [Depends(authorize)]
