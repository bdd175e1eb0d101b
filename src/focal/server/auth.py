"""Bearer tokens for the APIs: from FOCAL_API_TOKENS, or created with `focal token create`.

`AUTHORIZED` is the dependency of every protected route: OpenAPI shows it as the `bearer`
security scheme, and a missing or unknown token gets Focal's own 401 or 403 (in the shape
of the path's API, by the app's FocalError handler), never FastAPI's.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.params import Depends as Dependency
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from focal.catalog import HostedCatalog
from focal.config import Settings
from focal.errors import ErrorKind, FocalError

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


async def is_known_token(request: Request, token: str) -> bool:
    """The one place tokens are looked up: the settings' list, then the catalog's."""
    settings: Settings = request.app.state.delivery.settings
    if any(hmac.compare_digest(token.encode(), known.encode()) for known in settings.api_tokens):
        return True
    catalog: HostedCatalog = request.app.state.hosted.catalog
    return await asyncio.to_thread(catalog.check_token, token)


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> None:
    """Let the request through only with a known token."""
    if await is_known_token(request, bearer_token(credentials)):
        return
    raise FocalError(
        ErrorKind.ACCESS_DENIED,
        "this API token is not accepted here: create one with `focal token create NAME` "
        "or list it in FOCAL_API_TOKENS",
    )


# `dependencies=AUTHORIZED` on a route: it runs before the handler, which reads the body.
AUTHORIZED: list[Dependency] = [Depends(authorize)]
