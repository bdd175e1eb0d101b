"""The outermost middleware: a request id for every request, an access log line, and the
one place an unexpected exception is logged and answered.

The id is the client's `X-Request-ID` when it is safe to repeat (request_context.py), else a
new one; it is sent back in `X-Request-ID` and is on every log line of the request. The
access line (when `access_log` is on) carries what the services noted on the request's
context: canonical options, cache outcome, what gravity=face did.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi.responses import PlainTextResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from focal.request_context import Fact, handling, request_id_from

log = logging.getLogger("focal.access")
errors = logging.getLogger("focal.server")
REQUEST_ID_HEADER = "X-Request-ID"


def internal_error(request_id: str) -> PlainTextResponse:
    return PlainTextResponse(
        f"internal server error; it is logged with request id {request_id}\n",
        status_code=500,
        headers={"Cache-Control": "no-store"},
    )


def access_line(fields: dict[str, Any]) -> str:
    """The text form: `GET /path 200 12.3ms 512B cache=hit ...`, facts as name=value."""
    facts = " ".join(
        f"{name}={_text(value)}"
        for name, value in fields.items()
        if name not in ("method", "path", "status", "duration_ms", "bytes")
    )
    head = (
        f"{fields['method']} {fields['path']} {fields['status']} "
        f"{fields['duration_ms']}ms {fields['bytes']}B"
    )
    return f"{head} {facts}" if facts else head


def _text(value: Fact) -> str:
    text = str(value)
    if not text or any(character in text for character in ' "=;'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class AccessLog:
    def __init__(self, app: ASGIApp, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        started = time.perf_counter()
        status: int | None = None
        sent = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        with handling(request_id) as context:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # Logged here, once, with its traceback; not raised on, or the server would
                # log it again. A response already begun can only be cut short.
                errors.exception("unexpected error in %s %s", scope["method"], scope["path"])
                if status is None:
                    await internal_error(request_id)(scope, receive, send_with_id)
            finally:
                if self.enabled:
                    fields: dict[str, Any] = {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status if status is not None else "-",
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        # HEAD: the server writes no body, whatever the app handed it.
                        "bytes": 0 if scope["method"] == "HEAD" else sent,
                        **context.facts,
                    }
                    log.info("%s", access_line(fields), extra=fields)
