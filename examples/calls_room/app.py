"""A call room: the application endpoint of Focal's call page, holding the Calls app secret.

The page (served by Focal at /calls/room) never sees the secret: it asks this endpoint to
join, push, pull and renegotiate, and this endpoint calls Focal's session API with the
secret, for sessions it handed out only. It also keeps the room: who is in it and which
tracks each participant pushes, so every page can pull the others'.

    .venv/bin/python examples/calls_room/app.py

With no FOCAL_URL, a Focal server with the SFU is started in this process on FOCAL_PORT
(8080, data in ./calls-room-data) and an app is created on it; with FOCAL_URL, the app is
FOCAL_CALLS_APP_ID / FOCAL_CALLS_APP_SECRET, or one created with the management token
FOCAL_TOKEN. The room listens on ROOM_PORT (8090).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse


@dataclass
class Participant:
    session_id: str
    name: str
    tracks: list[str] = field(default_factory=list)


@dataclass
class CallsApp:
    focal_url: str
    app_id: str
    secret: str


def room_app(calls: CallsApp) -> FastAPI:
    """The room's endpoints, for pages of any origin (the page is on Focal's)."""
    app = FastAPI(title="calls room")
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
    )
    participants: dict[str, Participant] = {}
    focal = httpx.AsyncClient(
        base_url=f"{calls.focal_url}/calls/v1/apps/{calls.app_id}/sessions",
        headers={"Authorization": f"Bearer {calls.secret}"},
        timeout=30,
    )

    async def relay(method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = await focal.request(method, path, json=body)
        if answer.status_code >= 400:
            raise HTTPException(answer.status_code, answer.json().get("errorDescription"))
        result: dict[str, Any] = answer.json()
        return result

    def participant(session_id: str) -> Participant:
        if session_id not in participants:
            raise HTTPException(404, "not a session of this room")
        return participants[session_id]

    @app.post("/api/join")
    async def join(request: Request) -> dict[str, str]:
        name = str((await request.json()).get("name", "")).strip()[:40] or "guest"
        session = await relay("POST", "/new")
        participants[session["sessionId"]] = Participant(session["sessionId"], name)
        return {"sessionId": session["sessionId"]}

    @app.post("/api/sessions/{session_id}/push")
    async def push(session_id: str, request: Request) -> dict[str, Any]:
        who = participant(session_id)
        body = await request.json()
        answer = await relay("POST", f"/{session_id}/tracks/new", body)
        who.tracks += [t["trackName"] for t in answer["tracks"] if "errorCode" not in t]
        return answer

    @app.post("/api/sessions/{session_id}/pull")
    async def pull(session_id: str, request: Request) -> dict[str, Any]:
        participant(session_id)
        body = await request.json()
        return await relay("POST", f"/{session_id}/tracks/new", body)

    @app.put("/api/sessions/{session_id}/renegotiate")
    async def renegotiate(session_id: str, request: Request) -> dict[str, Any]:
        participant(session_id)
        return await relay("PUT", f"/{session_id}/renegotiate", await request.json())

    @app.get("/api/room")
    async def room() -> dict[str, Any]:
        shown = [
            {"sessionId": p.session_id, "name": p.name, "tracks": p.tracks}
            for p in participants.values()
        ]
        return {"participants": shown}

    @app.post("/api/leave")
    async def leave(request: Request) -> JSONResponse:
        participants.pop(str((await request.json()).get("sessionId", "")), None)
        return JSONResponse({})

    return app


async def created_app(focal_url: str, token: str) -> CallsApp:
    async with httpx.AsyncClient(base_url=focal_url, timeout=30) as client:
        made = await client.post(
            "/calls/v1/apps",
            json={"name": "calls room"},
            headers={"Authorization": f"Bearer {token}"},
        )
        made.raise_for_status()
        result = made.json()["result"]
    return CallsApp(focal_url, result["appId"], result["secret"])


async def main() -> None:
    room_port = int(os.environ.get("ROOM_PORT", "8090"))
    servers = []
    focal_url = os.environ.get("FOCAL_URL", "")
    token = os.environ.get("FOCAL_TOKEN", "")
    if not focal_url:  # one command: Focal itself, with the SFU, in this process
        from focal.config import load_settings
        from focal.server import create_app

        token = token or "calls-room-token"
        settings = load_settings(
            calls_enabled=True,
            api_tokens=(token,),
            data_dir=os.environ.get("FOCAL_DATA_DIR", "calls-room-data"),
            detector_warm_start=False,
        )
        focal_url = f"http://{settings.host}:{settings.port}"
        focal = uvicorn.Server(
            uvicorn.Config(create_app(settings), host=settings.host, port=settings.port)
        )
        servers.append(asyncio.create_task(focal.serve()))
        while not focal.started:
            await asyncio.sleep(0.05)
    app_id, secret = os.environ.get("FOCAL_CALLS_APP_ID"), os.environ.get("FOCAL_CALLS_APP_SECRET")
    calls = (
        CallsApp(focal_url, app_id, secret)
        if app_id and secret
        else await created_app(focal_url, token)
    )
    room = uvicorn.Server(uvicorn.Config(room_app(calls), host="127.0.0.1", port=room_port))
    print(
        f"Open {focal_url}/calls/room?endpoint=http://127.0.0.1:{room_port} in two tabs", flush=True
    )
    servers.append(asyncio.create_task(room.serve()))
    await asyncio.gather(*servers)


if __name__ == "__main__":
    asyncio.run(main())
