"""Errors as values: every failure a user can cause has a code, an HTTP status and a message.

Codes follow the numbering of the hosted image product's `err=NNNN` codes so that
existing clients and dashboards keep working.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(Enum):
    """What went wrong, with its public error code and HTTP status."""

    BAD_OPTIONS = (9401, 400)
    ORIGIN_NOT_ALLOWED = (9401, 403)
    # A /cdn-cgi/image/ URL without a valid signature (FOCAL_URL_SIGNING_KEYS). The third
    # item keeps it a kind of its own, not an alias of ORIGIN_NOT_ALLOWED's equal value.
    URL_NOT_SIGNED = (9401, 403, "signature")
    SOURCE_TOO_LARGE = (9402, 413)
    FETCH_FAILED = (9402, 502)
    LOOP = (9403, 508)
    CONFLICT = (9409, 409)
    NOT_FOUND = (9404, 404)
    INVALID_URL = (9406, 403)
    DNS_FAILED = (9407, 502)
    ORIGIN_TIMEOUT = (9408, 504)
    NOT_AN_IMAGE = (9412, 415)
    IMAGE_TOO_LARGE = (9413, 403)
    BAD_REDIRECT = (9420, 400)
    TOO_MANY_REDIRECTS = (9421, 400)
    QUOTA_EXCEEDED = (9422, 429)
    BAD_REQUEST = (9424, 400)
    UNSUPPORTED_BODY = (9424, 415)  # a request body of a media type the route does not read
    FLEXIBLE_VARIANTS_OFF = (9429, 403)
    NOT_AUTHENTICATED = (9425, 401)
    ACCESS_DENIED = (9425, 403)
    ORIGIN_DOWN = (9504, 502)
    PROCESSING_FAILED = (9516, 422)
    UNSUPPORTED_FORMAT = (9520, 415)
    BUSY = (9522, 503)

    @property
    def code(self) -> int:
        return int(self.value[0])

    @property
    def status(self) -> int:
        return int(self.value[1])


class FocalError(Exception):
    """A failure with a public code, an HTTP status and a message a user can act on."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def code(self) -> int:
        return self.kind.code

    @property
    def status(self) -> int:
        return self.kind.status

    def __repr__(self) -> str:
        return f"FocalError({self.kind.name}, {self.message!r})"


class OptionError(FocalError):
    """A transformation option that is unknown, malformed or out of range."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.BAD_OPTIONS, message)
