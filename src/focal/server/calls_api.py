"""The Calls API (`/calls/v1`): apps with a management token, sessions with the app's secret.

Apps answer in the hosted envelope (`{result, success, errors, messages}`); the session API
answers in the product's own shapes, and refuses as `{errorCode, errorDescription}`. A
session is found only under its own app, whose secret the request must carry.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from focal.calls.sessions import CallSession
from focal.calls.sfu import Sfu
from focal.errors import ErrorKind, FocalError
from focal.json_input import load_json, validated
from focal.server.api_models import ENVELOPE_ERRORS, json_body
from focal.server.auth import AUTHORIZED, bearer_scheme, bearer_token
from focal.server.calls_models import (
    CallsError,
    CloseTracks,
    NewApp,
    NewDataChannels,
    NewSession,
    NewTracks,
    Renegotiate,
)
from focal.server.hosted_api import envelope
from focal.server.state import parts_of

SESSION_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": CallsError, "description": "refused: errorCode and errorDescription say why"}
}

apps = APIRouter(dependencies=AUTHORIZED, responses=ENVELOPE_ERRORS, tags=["calls"])
sessions = APIRouter(responses=SESSION_ERRORS, tags=["calls"])


def _sfu(request: Request) -> Sfu:
    sfu = parts_of(request).calls
    if sfu is None:  # pragma: no cover - the routes are only mounted with the SFU
        raise FocalError(ErrorKind.NOT_FOUND, "calls are off: set FOCAL_CALLS_ENABLED=true")
    return sfu


async def _body(request: Request) -> Any:
    data = await request.body()
    return load_json(data, "the body") if data.strip() else {}


# --- apps ----------------------------------------------------------------------------------


@apps.post("/calls/v1/apps", status_code=201, openapi_extra=json_body(NewApp))
async def create_app(request: Request) -> Response:
    """A new app: its `appId`, and its `secret`, shown this once (only its hash is kept)."""
    body = validated(NewApp, await _body(request), "the body")
    app, secret = await asyncio.to_thread(parts_of(request).calls_apps.create_app, body.name)
    return envelope({**app.shown(), "secret": secret}, status=201)


@apps.get("/calls/v1/apps")
async def list_apps(request: Request) -> Response:
    found = await asyncio.to_thread(parts_of(request).calls_apps.list_apps)
    return envelope([app.shown() for app in found])


@apps.get("/calls/v1/apps/{app_id}")
async def get_app(request: Request, app_id: str) -> Response:
    app = await asyncio.to_thread(parts_of(request).calls_apps.get_app, app_id)
    if app is None:
        raise FocalError(ErrorKind.NOT_FOUND, f"no calls app {app_id!r}")
    return envelope(app.shown())


@apps.delete("/calls/v1/apps/{app_id}")
async def delete_app(request: Request, app_id: str) -> Response:
    """The app, its secret and its sessions (closed now)."""
    if not await asyncio.to_thread(parts_of(request).calls_apps.delete_app, app_id):
        raise FocalError(ErrorKind.NOT_FOUND, f"no calls app {app_id!r}")
    await _sfu(request).drop_app(app_id)
    return envelope({})


# --- sessions ------------------------------------------------------------------------------


async def app_secret(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> str:
    """The app of the path, if the request carries its own secret; else 401 or 403."""
    app_id = request.path_params["app_id"]
    secret = bearer_token(credentials)
    if not await asyncio.to_thread(parts_of(request).calls_apps.check_secret, app_id, secret):
        raise FocalError(
            ErrorKind.ACCESS_DENIED,
            "this secret does not open this app: send the secret POST /calls/v1/apps gave "
            "for this appId as 'Authorization: Bearer <secret>'",
        )
    return str(app_id)


AppId = Annotated[str, Security(app_secret)]
SESSION = "/calls/v1/apps/{app_id}/sessions/{session_id}"


def _session(request: Request, app_id: str, session_id: str) -> CallSession:
    return _sfu(request).session(app_id, session_id)


@sessions.post(
    "/calls/v1/apps/{app_id}/sessions/new", status_code=201, openapi_extra=json_body(NewSession)
)
async def new_session(request: Request, app_id: AppId) -> Response:
    """A new session; with the client's offer (its tracks pushed later by mid), its answer."""
    body = validated(NewSession, await _body(request), "the body")
    session = _sfu(request).new_session(app_id)
    answer: dict[str, Any] = {"sessionId": session.id}
    if body.sessionDescription is not None:
        async with session.lock:
            pushed = await session.push(body.sessionDescription.model_dump(), [])
        answer["sessionDescription"] = pushed["sessionDescription"]
    return JSONResponse(answer, status_code=201)


@sessions.post(SESSION + "/tracks/new", openapi_extra=json_body(NewTracks))
async def new_tracks(request: Request, app_id: AppId, session_id: str) -> Response:
    """Push local tracks (with the client's offer) or pull remote ones (the SFU offers)."""
    body = validated(NewTracks, await _body(request), "the body")
    sfu = _sfu(request)
    session = _session(request, app_id, session_id)
    sfu.check_track_count(body.tracks)
    locations = {track.location for track in body.tracks}
    if len(locations) > 1:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            "push local tracks and pull remote ones in separate requests",
        )
    tracks = [track.model_dump(exclude_none=True) for track in body.tracks]
    async with session.lock:
        if locations == {"local"}:
            if body.sessionDescription is None:
                raise FocalError(
                    ErrorKind.BAD_REQUEST,
                    "pushing local tracks needs the client's offer in sessionDescription",
                )
            answer = await session.push(body.sessionDescription.model_dump(), tracks)
        else:
            answer = await session.pull(
                tracks, lambda source, name: sfu.find_track(app_id, source, name)
            )
    return JSONResponse(answer)


@sessions.put(SESSION + "/renegotiate", openapi_extra=json_body(Renegotiate))
async def renegotiate(request: Request, app_id: AppId, session_id: str) -> Response:
    """The client's answer to the SFU's last offer."""
    body = validated(Renegotiate, await _body(request), "the body")
    session = _session(request, app_id, session_id)
    async with session.lock:
        return JSONResponse(await session.renegotiate(body.sessionDescription.model_dump()))


@sessions.put(SESSION + "/tracks/close", openapi_extra=json_body(CloseTracks))
async def close_tracks(request: Request, app_id: AppId, session_id: str) -> Response:
    body = validated(CloseTracks, await _body(request), "the body")
    sfu = _sfu(request)
    session = _session(request, app_id, session_id)
    sfu.check_track_count(body.tracks)
    offer = None if body.sessionDescription is None else body.sessionDescription.model_dump()
    async with session.lock:
        answer = await session.close_tracks([t.mid for t in body.tracks], offer, body.force)
    return JSONResponse(answer)


@sessions.get(SESSION)
async def get_session(request: Request, app_id: AppId, session_id: str) -> Response:
    """The session's tracks and data channels, with their status."""
    return JSONResponse(_session(request, app_id, session_id).shown())


@sessions.post(SESSION + "/datachannels/new", openapi_extra=json_body(NewDataChannels))
async def new_data_channels(request: Request, app_id: AppId, session_id: str) -> Response:
    """Local: a channel this session writes; remote: one it reads from another session.

    Each answer carries the negotiated `id` the client opens its channel with
    (`pc.createDataChannel(name, {negotiated: true, id})`).
    """
    body = validated(NewDataChannels, await _body(request), "the body")
    sfu = _sfu(request)
    session = _session(request, app_id, session_id)
    sfu.check_track_count(body.dataChannels)
    answered = []
    async with session.lock:
        for wanted in body.dataChannels:
            if wanted.location == "local":
                answered.append(session.publish_channel(wanted.dataChannelName))
                continue
            source = wanted.sessionId or ""
            published = sfu.find_channel(app_id, source, wanted.dataChannelName)
            if published is None:
                answered.append(
                    {
                        "location": "remote",
                        "sessionId": source,
                        "dataChannelName": wanted.dataChannelName,
                        "errorCode": "not_found",
                        "errorDescription": f"session {source!r} has no data channel "
                        f"{wanted.dataChannelName!r}",
                    }
                )
                continue
            answered.append(session.subscribe_channel(published, source))
    return JSONResponse({"dataChannels": answered})
