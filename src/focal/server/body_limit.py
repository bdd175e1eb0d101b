"""Every request body is bounded while it streams in, at the limit of its route.

One ASGI middleware for the whole app: a declared Content-Length over the bound is refused
before anything is read, and a body that passes the bound as it arrives (chunked or not) is
refused at that moment, so no handler ever spools more than its route allows. (What a
client sends after its answer is read and dropped by the HTTP server, never kept: closing
the connection instead would often cost the client the answer.)

Starlette's own `max_body_size` fixes a route's limit when the route is declared; here the
limits come from the settings, and the 413 keeps the shape of the API it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from focal.config import Settings
from focal.errors import ErrorKind, FocalError
from focal.pipeline.operations import MAX_INPUTS

SMALL_BODY_BYTES = 64 * 1024  # JSON bodies and the small forms of the APIs
FORM_OVERHEAD_BYTES = 64 * 1024  # a form's boundaries, part headers and small fields
CHAIN_MAX_BYTES = 1024 * 1024  # the Images API's JSON part; Starlette's limit for a form field
HOSTED_UPLOAD_ROUTES = ("/images/v1",)  # POST with a file, besides /upload/<id>
IMAGES_API_ROUTES = ("/transform", "/info")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BodyBound:
    """How many bytes a route's body may have, and what to tell a client that sent more."""

    limit: int
    advice: str

    def refusal(self) -> FocalError:
        return FocalError(
            ErrorKind.SOURCE_TOO_LARGE,
            f"the request is over {self.limit:,} bytes: {self.advice}",
        )


@dataclass(frozen=True)
class RouteBodyLimits:
    """The bound of each route's body, from the settings."""

    hosted_upload: BodyBound
    images_api: BodyBound
    small: BodyBound

    @classmethod
    def from_settings(cls, settings: Settings) -> RouteBodyLimits:
        return cls(
            hosted_upload=BodyBound(
                settings.hosted_max_bytes + FORM_OVERHEAD_BYTES,
                f"hosted images may be at most {settings.hosted_max_bytes:,} bytes",
            ),
            images_api=BodyBound(
                settings.max_input_bytes * MAX_INPUTS + CHAIN_MAX_BYTES + FORM_OVERHEAD_BYTES,
                f"each input image may be at most {settings.max_input_bytes:,} bytes, "
                f"and there may be at most {MAX_INPUTS}",
            ),
            small=BodyBound(SMALL_BODY_BYTES, "bodies of this route are small JSON or forms"),
        )

    def bound(self, method: str, path: str) -> BodyBound:
        if method == "POST" and (path in HOSTED_UPLOAD_ROUTES or path.startswith("/upload/")):
            return self.hosted_upload
        if method == "POST" and path in IMAGES_API_ROUTES:
            return self.images_api
        return self.small


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


class BodyLimit:
    """ASGI middleware: refuses bodies over their route's bound with a 413.

    `refuse(path, error)` is the app's error answer for that path, so the 413 has the shape
    of the API it belongs to.
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: RouteBodyLimits,
        refuse: Callable[[str, FocalError], Response],
    ) -> None:
        self.app = app
        self.limits = limits
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        bound = self.limits.bound(method, path)
        declared = _declared_length(scope)
        if declared is not None and declared > bound.limit:
            await self.refuse(path, bound.refusal())(scope, receive, send)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > bound.limit:
                    raise bound.refusal()  # the app's error handler answers it
            return message

        try:
            await self.app(scope, bounded_receive, send)
        except ClientDisconnect:
            # Normal on the internet, and nothing to answer: one line, not a traceback.
            log.warning(
                "%s %s: the client went away after %s bytes of the body", method, path, received
            )
