"""The upload widget's backend template: an application that lets its users upload straight
to Focal without ever seeing its API token.

Its page embeds `<focal-upload>` from the Focal server. For each file the widget POSTs to
this app's `/api/authorize-upload` (with the page's cookies: here a demo session cookie
stands for the application's own sign-in); the app checks the session, asks Focal for a
one-time upload URL with its token (`POST /images/v2/direct_upload`), and answers
`{uploadURL, id}`. The browser then sends the file to Focal itself. Uploaded images are
shown with the `face` variant, a square crop centred on the faces (`gravity=face`), which
the app creates at start-up.

Run alone it starts a Focal server of its own beside it (port FOCAL_PORT, default 8080,
data in ./upload-widget-data) with a token made for the run. Settings (environment):
FOCAL_URL and FOCAL_TOKEN (an existing Focal server and an API token of it),
FOCAL_PUBLIC_URL (Focal's address as browsers reach it, default FOCAL_URL), HOST and PORT
(of this app, default 127.0.0.1:8000).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

SESSION_COOKIE = "demo_session"
FACE_VARIANT = "face"
# A square thumbnail centred on the faces: what a profile picture needs.
FACE_OPTIONS = {"fit": "cover", "width": 240, "height": 240, "gravity": "face"}
UPLOAD_EXPIRY_SECONDS = 600  # an unused upload URL is worth nothing after this

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Upload photos</title>
  <script src="{focal}/widget/v1/focal-upload.js"></script>
  <style>
    body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 760px; margin: 2rem auto;
           padding: 0 1rem; color: #1f2328; }}
    focal-upload {{ --focal-upload-accent: #8250df; }}
    #gallery {{ display: grid; grid-template-columns: repeat(auto-fill, 120px); gap: 12px;
               list-style: none; padding: 0; }}
    #gallery img {{ width: 120px; height: 120px; border-radius: 50%; display: block; }}
    #gallery figure {{ margin: 0; }}
    #gallery figcaption {{ font-size: 12px; overflow: hidden; text-overflow: ellipsis; }}
  </style>
</head>
<body>
  <h1>Upload photos</h1>
  <p>Drop photos, paste one, or choose several; each goes straight to the image server.</p>
  <focal-upload authorize-url="/api/authorize-upload" accept="image/*" multiple
                max-files="20" downscale="4096"></focal-upload>
  <h2>Uploaded, cropped to the faces</h2>
  <ul id="gallery" aria-live="polite"></ul>
  <script>
    const focal = {focal_json};
    document.querySelector("focal-upload").addEventListener("focal-upload-success", (event) => {{
      const {{ id, filename }} = event.detail;
      const item = document.createElement("li");
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = `${{focal}}/images/${{encodeURIComponent(id)}}/{variant}`;
      image.alt = `${{filename}}, cropped to the faces`;
      const caption = document.createElement("figcaption");
      caption.textContent = filename;
      figure.append(image, caption);
      item.append(figure);
      document.getElementById("gallery").append(item);
    }});
  </script>
</body>
</html>
"""


def create_app(focal_url: str, token: str, public_url: str | None = None) -> FastAPI:
    """The app, talking to Focal at `focal_url` with `token`; pages reach Focal at
    `public_url` (default: `focal_url`)."""
    focal_url = focal_url.rstrip("/")
    shown_url = (public_url or focal_url).rstrip("/")
    client = httpx.AsyncClient(
        base_url=focal_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )

    async def ensure_face_variant() -> None:
        variant = {"id": FACE_VARIANT, "options": FACE_OPTIONS, "neverRequireSignedURLs": True}
        response = await client.post("/images/v1/variants", json=variant)
        if response.status_code == 409:  # made at an earlier start: keep it up to date
            del variant["id"]
            response = await client.patch(f"/images/v1/variants/{FACE_VARIANT}", json=variant)
        response.raise_for_status()

    async def lifespan(app: FastAPI) -> Any:
        await ensure_face_variant()
        yield
        await client.aclose()

    app = FastAPI(title="Upload widget example", lifespan=lifespan)

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        body = PAGE.format(
            focal=html.escape(shown_url),
            focal_json=json.dumps(shown_url),
            variant=FACE_VARIANT,
        )
        response = HTMLResponse(body)
        if SESSION_COOKIE not in request.cookies:
            # Stands for the application's own sign-in.
            response.set_cookie(SESSION_COOKIE, secrets.token_urlsafe(16), httponly=True)
        return response

    @app.post("/api/authorize-upload")
    async def authorize_upload(request: Request) -> JSONResponse:
        """One one-time upload URL for one file, for a signed-in user."""
        session = request.cookies.get(SESSION_COOKIE)
        if not session:
            return JSONResponse({"message": "sign in first (open the page)"}, status_code=401)
        about = await _file_facts(request)
        draft = {
            "expiry": str(UPLOAD_EXPIRY_SECONDS),
            "metadata": json.dumps({"session": session[:8], **about}),
        }
        response = await client.post("/images/v2/direct_upload", data=draft)
        answer = response.json()
        if not answer.get("success"):
            message = answer["errors"][0]["message"] if answer.get("errors") else response.text
            return JSONResponse({"message": message}, status_code=response.status_code)
        result = answer["result"]
        return JSONResponse({"uploadURL": result["uploadURL"], "id": result["id"]})

    return app


async def _file_facts(request: Request) -> dict[str, Any]:
    """What the widget says of the file (name, type, size), kept as the image's metadata."""
    try:
        facts = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    if not isinstance(facts, dict):
        return {}
    return {key: facts[key] for key in ("filename", "type", "size") if key in facts}


async def serve_with_focal(host: str, port: int, focal_port: int) -> None:
    """This app and, beside it, a Focal server of its own (data in ./upload-widget-data),
    with a token made for this run: one command to try the widget."""
    import uvicorn

    from focal.config import load_settings
    from focal.server import create_app as create_focal

    token = secrets.token_urlsafe(24)
    settings = load_settings(
        api_tokens=(token,), data_dir=Path("upload-widget-data"), host=host, port=focal_port
    )
    focal = uvicorn.Server(uvicorn.Config(create_focal(settings), host=host, port=focal_port))
    focal_task = asyncio.create_task(focal.serve())
    while not focal.started:  # the app's start-up calls Focal
        if focal_task.done():
            return await focal_task
        await asyncio.sleep(0.05)
    app = create_app(f"http://{host}:{focal_port}", token)
    try:
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port)).serve()
    finally:
        focal.should_exit = True
        await focal_task


def main() -> None:
    import uvicorn

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    focal_url, token = os.environ.get("FOCAL_URL"), os.environ.get("FOCAL_TOKEN")
    if not focal_url:
        asyncio.run(serve_with_focal(host, port, int(os.environ.get("FOCAL_PORT", "8080"))))
        return
    if not token:
        raise SystemExit("set FOCAL_TOKEN to an API token of the Focal server at FOCAL_URL")
    app = create_app(focal_url, token, os.environ.get("FOCAL_PUBLIC_URL"))
    uvicorn.run(app, host=host, port=port)


if __name__ == "__main__":
    main()
