"""How handlers reach the server's parts: built once at start-up, kept on the app's state."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from focal.service.parts import Parts


def parts_of(request: HTTPConnection) -> Parts:
    """The parts of the app serving `request` (see focal.service.parts)."""
    parts: Parts = request.app.state.parts
    return parts
