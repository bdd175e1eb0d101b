"""Live streams over HTTP: the management API (`/stream/live_inputs`, also under
`/accounts/<account>/stream/…`), enveloped as `/images/v1` is and behind the same tokens;
and playback without a token (lifecycle, manifests, segments, clips, the player page)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from focal.catalog.live_streams import LIVE, Video
from focal.errors import ErrorKind, FocalError
from focal.json_input import load_json
from focal.server.api_models import ENVELOPE_ERRORS, TEXT_ERRORS
from focal.server.auth import AUTHORIZED
from focal.server.hosted_api import envelope
from focal.server.state import parts_of
from focal.stream.inputs import describe_input, describe_video
from focal.stream.playback import Playlist
from focal.stream.service import StreamParts

api = APIRouter(dependencies=AUTHORIZED, responses=ENVELOPE_ERRORS, tags=["stream"])
public = APIRouter(responses=TEXT_ERRORS, tags=["stream"])
ENVELOPED_STREAM_PATHS = ("/stream/live_inputs", "/accounts/")
PREFIXES = ("", "/accounts/{account}")
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,119}")


def _stream(request: Request) -> StreamParts:
    return parts_of(request).stream


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _managed(method: str, path: str) -> Callable[[Any], Any]:
    """Register a management route at `path` and under /accounts/<account>."""

    def register(endpoint: Any) -> Any:
        for prefix in PREFIXES:
            api.add_api_route(
                prefix + path,
                endpoint,
                methods=[method],
                include_in_schema=prefix == "",
                name=f"{endpoint.__name__}{'_account' if prefix else ''}",
            )
        return endpoint

    return register


async def _body(request: Request) -> object:
    return load_json(await request.body(), "the body")


def _input_answer(request: Request, live_input: Any) -> dict[str, Any]:
    return describe_input(live_input, _stream(request).rtmp_url)


# --- management --------------------------------------------------------------------------


@_managed("POST", "/stream/live_inputs")
async def create_live_input(request: Request) -> Response:
    """A new live input: `{meta, enabled, recording: {mode, timeoutSeconds,
    requireSignedURLs, allowedOrigins}, deleteRecordingAfterDays}`, all optional."""
    body = await _body(request)
    live_input = await asyncio.to_thread(_stream(request).inputs.create, body)
    return envelope(_input_answer(request, live_input), status=201)


@_managed("GET", "/stream/live_inputs")
async def list_live_inputs(request: Request) -> Response:
    inputs = await asyncio.to_thread(_stream(request).catalog.list_inputs)
    return envelope([_input_answer(request, live_input) for live_input in inputs])


@_managed("GET", "/stream/live_inputs/{uid}")
async def get_live_input(request: Request, uid: str) -> Response:
    live_input = await asyncio.to_thread(_stream(request).inputs.get, uid)
    return envelope(_input_answer(request, live_input))


@_managed("PUT", "/stream/live_inputs/{uid}")
async def update_live_input(request: Request, uid: str) -> Response:
    """Change the fields given; the others keep their values."""
    body = await _body(request)
    live_input = await asyncio.to_thread(_stream(request).inputs.update, uid, body)
    return envelope(_input_answer(request, live_input))


@_managed("DELETE", "/stream/live_inputs/{uid}")
async def delete_live_input(request: Request, uid: str) -> Response:
    """The input and every recording of it, segments included."""
    await asyncio.to_thread(_stream(request).inputs.delete, uid)
    return envelope(None)


@_managed("GET", "/stream/live_inputs/{uid}/videos")
async def live_input_videos(request: Request, uid: str) -> Response:
    videos = await asyncio.to_thread(_stream(request).inputs.videos, uid)
    return envelope([describe_video(video, _base_url(request)) for video in videos])


@_managed("GET", "/stream/videos/{uid}")
async def get_video(request: Request, uid: str) -> Response:
    video = await asyncio.to_thread(_stream(request).inputs.video, uid)
    return envelope(describe_video(video, _base_url(request)))


@_managed("DELETE", "/stream/videos/{uid}")
async def delete_video(request: Request, uid: str) -> Response:
    """The recording and every one of its segments; its clips go with it."""
    await asyncio.to_thread(_stream(request).inputs.delete_video, uid)
    return envelope(None)


# --- playback ----------------------------------------------------------------------------


def _path_and_query(request: Request) -> tuple[str, dict[str, str]]:
    return request.url.path, dict(request.query_params)


async def _cors(request: Request, video: Video) -> dict[str, str]:
    """Access-Control-Allow-Origin for the input's allowedOrigins (none listed: any)."""
    stream = _stream(request)
    live_input = await asyncio.to_thread(stream.catalog.get_input, video.live_input)
    allowed = live_input.allowed_origins if live_input else []
    origin = request.headers.get("origin")
    if not allowed or "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin and origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _cache(video: Video, immutable: bool) -> str:
    if video.require_signed_urls:
        return "private, max-age=60" if immutable else "private, no-cache"
    return "public, max-age=31536000, immutable" if immutable else "no-cache"


async def _playlist_response(request: Request, playlist: Playlist, header: str) -> Response:
    headers = {
        header: f"{playlist.start:.3f}",
        "stream-media-id": playlist.video.uid,
        "Cache-Control": _cache(
            playlist.video, playlist.video.state != LIVE and header != "preview-start-seconds"
        ),
        **await _cors(request, playlist.video),
    }
    return Response(playlist.text, media_type=PLAYLIST_TYPE, headers=headers)


@public.get("/stream/{uid}/lifecycle")
async def lifecycle(request: Request, uid: str) -> Response:
    """`{isInput, videoUID, live}`: whether `uid` is a live input, and its live video."""
    answer = await asyncio.to_thread(_stream(request).playback.lifecycle, uid)
    return JSONResponse(
        answer, headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
    )


@public.get("/stream/{uid}/manifest/video.m3u8", response_class=Response)
async def video_manifest(request: Request, uid: str, duration: str | None = None) -> Response:
    """HLS of the recording (live, it follows the live edge). With `duration` (up to 5m, as
    `30s` or `3m`), a preview of its last `duration`: `preview-start-seconds` says where it
    starts from the start of the broadcast, `stream-media-id` which video it is."""
    path, query = _path_and_query(request)
    playlist = await asyncio.to_thread(
        _stream(request).playback.manifest, uid, duration, path, query
    )
    return await _playlist_response(request, playlist, "preview-start-seconds")


@public.get("/stream/{uid}/manifest/clip.m3u8", response_class=Response)
async def clip_manifest(
    request: Request, uid: str, time: str | None = None, duration: str | None = None
) -> Response:
    """HLS of a clip: from the keyframe at or before `time` for at least `duration` (≤ 60s);
    `clip-start-seconds` says where it really starts."""
    path, query = _path_and_query(request)
    playlist = await asyncio.to_thread(
        _stream(request).playback.clip_manifest, uid, time, duration, path, query
    )
    return await _playlist_response(request, playlist, "clip-start-seconds")


@public.get("/stream/{uid}/clip.mp4", response_class=Response)
async def clip_file(
    request: Request,
    uid: str,
    time: str | None = None,
    duration: str | None = None,
    filename: str | None = None,
) -> Response:
    """The clip as one MP4 (remuxed, index first): `clip-start-seconds` and
    `clip-duration-seconds` say what it holds; `filename` names the download."""
    if filename is not None and (FILENAME.fullmatch(filename) is None or ".." in filename):
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            "filename is 1 to 120 letters, digits, spaces, '.', '_' or '-', e.g. clip.mp4",
        )
    path, query = _path_and_query(request)
    clip = await asyncio.to_thread(
        _stream(request).playback.clip_file, uid, time, duration, path, query
    )
    disposition = f'attachment; filename="{filename}"' if filename else "inline"
    headers = {
        "clip-start-seconds": f"{clip.start:.3f}",
        "clip-duration-seconds": f"{clip.duration:.3f}",
        "stream-media-id": clip.video.uid,
        "Content-Disposition": disposition,
        "Cache-Control": _cache(clip.video, True),
        **await _cors(request, clip.video),
    }
    return FileResponse(
        clip.path,
        media_type="video/mp4",
        headers=headers,
        background=BackgroundTask(clip.path.unlink, missing_ok=True),
    )


@public.get("/stream/{uid}/segments/{name}", response_class=Response)
async def segment(request: Request, uid: str, name: str) -> Response:
    path, query = _path_and_query(request)
    playback = _stream(request).playback
    data = await asyncio.to_thread(playback.segment, uid, name, path, query)
    video, _ = await asyncio.to_thread(playback.resolve, uid)
    headers = {"Cache-Control": _cache(video, True), **await _cors(request, video)}
    return Response(data, media_type="video/mp2t", headers=headers)


@public.get("/stream/{uid}/watch", response_class=HTMLResponse)
async def player_page(uid: str) -> Response:
    """The player of a live input or a video: live, with the preview's timeline and clips."""
    page = resources.files("focal.web").joinpath("stream/player.html").read_text()
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


# The player's files, from the installed package (web/stream/, web/vendor/hls.js/): no CDN.
PLAYER_FILES = {
    "player.js": ("stream/player.js", "text/javascript"),
    "player.css": ("stream/player.css", "text/css"),
    "hls.min.js": ("vendor/hls.js/hls.min.js", "text/javascript"),
}


@public.get("/stream/player/{name}", include_in_schema=False)
async def player_file(name: str) -> Response:
    if name not in PLAYER_FILES:
        raise FocalError(ErrorKind.NOT_FOUND, f"the player has no file {name!r}")
    path, media_type = PLAYER_FILES[name]
    data = resources.files("focal.web").joinpath(path).read_bytes()
    return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


router = APIRouter()
router.include_router(api)
router.include_router(public)
