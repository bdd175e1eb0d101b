"""The request being handled: its id, and the facts services note about it for the access log.

A context variable, so that it follows the request into tasks and into worker threads
started with `asyncio.to_thread` (or a context copied by hand), and never reaches another
request. Services call `note(cache="hit")` where they learn a fact; they know nothing of HTTP.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

MAX_REQUEST_ID_LENGTH = 128
# What an incoming X-Request-ID may hold: it is copied into headers and log lines as is.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_REQUEST_ID_LENGTH}}}")

Fact = str | int | float | bool


@dataclass
class RequestContext:
    request_id: str
    # Mutable, and shared by the copies of the context a request's tasks and threads get:
    # a fact noted anywhere in the request's work reaches its access log line.
    facts: dict[str, Fact] = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("focal_request", default=None)


def request_id_from(incoming: str | None) -> str:
    """The client's X-Request-ID when it is safe to repeat, else a new one."""
    if incoming is not None and _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    # 128 random bits as 32 hex digits, like a uuid4, without uuid4's system call (which
    # gives up and retakes the GIL on the event loop, once per request): an id to find a
    # request's lines by, not a secret.
    return f"{random.getrandbits(128):032x}"


@contextmanager
def handling(request_id: str) -> Iterator[RequestContext]:
    """The context of one request, current inside the `with`."""
    context = RequestContext(request_id)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str | None:
    context = _current.get()
    return context.request_id if context is not None else None


def note(**facts: Fact | None) -> None:
    """Record facts about the current request (None values are skipped); outside a request,
    nothing happens."""
    context = _current.get()
    if context is not None:
        context.facts.update({name: value for name, value in facts.items() if value is not None})
