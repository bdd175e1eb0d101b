"""Refusals of the Calls API in the product's shapes (no aiortc needed to send one)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from focal.errors import ErrorKind, FocalError

CALLS_PATHS = "/calls/v1"
ERROR_CODES = {
    ErrorKind.BAD_REQUEST: "invalid_request",
    ErrorKind.NOT_FOUND: "not_found",
    ErrorKind.NOT_AUTHENTICATED: "unauthorized",
    ErrorKind.ACCESS_DENIED: "forbidden",
    ErrorKind.CONFLICT: "conflict",
}


def is_session_path(path: str) -> bool:
    """The session API (`/calls/v1/apps/<appId>/sessions/...`), not the apps API."""
    return path.startswith(CALLS_PATHS + "/apps/") and "/sessions/" in path


def session_error(error: FocalError) -> JSONResponse:
    body = {"errorCode": ERROR_CODES.get(error.kind, "error"), "errorDescription": error.message}
    return JSONResponse(body, status_code=error.status, headers={"Cache-Control": "no-store"})
