"""The call page (`/calls/room`): files of focal.web/calls, served from the installed package."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from focal.errors import ErrorKind, FocalError

router = APIRouter(include_in_schema=False)
PAGE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "room.js": "text/javascript; charset=utf-8",
    "room.css": "text/css; charset=utf-8",
}


def _page_file(name: str) -> Response:
    if name not in PAGE_FILES:
        raise FocalError(ErrorKind.NOT_FOUND, f"the call page has no file {name!r}")
    data = resources.files("focal.web").joinpath("calls", name).read_bytes()
    return Response(data, media_type=PAGE_FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/calls/room")
async def room_page() -> Response:
    """A call: camera and microphone pushed, every other participant's tracks pulled."""
    return _page_file("index.html")


@router.get("/calls/room/{name}")
async def room_file(name: str) -> Response:
    return _page_file(name)
