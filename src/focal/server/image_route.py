"""`GET|HEAD /cdn-cgi/image/<options>/<source>`: the hot path, answered in plain ASGI.

Every delivery is one of these, so they skip what only the APIs need: the framework's route
matching, dependency solving and its exception and exit-stack layers (a third of the event
loop's time per delivery, profiled at concurrency 16). They stay inside Focal's own
middleware — request id and access line, metrics, CORS, body bounds — and answer exactly as
the documented route does, which the app keeps for its schema and for incomplete URLs.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from focal.errors import FocalError
from focal.server.responses import delivery_response
from focal.service.parts import Parts
from focal.service.url_access import RequestTarget

PREFIX = "/cdn-cgi/image/"
PATTERN = PREFIX + "{options}/{source:path}"
METHODS = ("GET", "HEAD")


async def deliver_image(
    parts: Parts, scope: Scope, options: str, source: str, query: str
) -> Response:
    """The answer to one delivery URL; raises FocalError."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    # What a signature covers: the path as sent, percent-encoding kept (ASGI's raw_path; a
    # server without it gives the decoded path, which is then what is signed).
    raw_path = scope.get("raw_path") or scope["path"].encode()
    target = RequestTarget(raw_path, query)
    return delivery_response(await parts.delivery.deliver(options, source, headers, target))


class ImageRoute:
    """ASGI middleware answering complete delivery URLs itself; everything else passes on."""

    def __init__(
        self,
        app: ASGIApp,
        route: Callable[[], BaseRoute | None],
        refuse: Callable[[str, FocalError], Response],
    ) -> None:
        self.app = app
        self._route = route  # the documented route: what metrics name these requests by
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        options, slash, source = path[len(PREFIX) :].partition("/")
        if not path.startswith(PREFIX) or not options or not slash or not source:
            await self.app(scope, receive, send)  # not a delivery, or an incomplete one
            return
        scope["route"] = self._route()
        parts: Parts = scope["app"].state.parts
        try:
            response = await deliver_image(
                parts, scope, options, source, scope["query_string"].decode("latin-1")
            )
        except FocalError as error:
            response = self.refuse(path, error)
        await response(scope, receive, send)
