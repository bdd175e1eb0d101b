"""The face detector as its own HTTP service: `focal detector serve`.

POST /detect with an image's bytes as the body answers its faces as JSON (the `DetectionResult`
form: boxes, landmarks and scores in pixels of the upright original, and its size); GET /healthz
says whether the model is loaded. Detection runs in the same worker processes a server uses,
so a crash in inference costs one answer (503), not the service. A server with
FOCAL_DETECTOR_URL sends its new originals here (faces/remote.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from focal import __version__
from focal.config import Settings, load_settings
from focal.errors import ErrorKind, FocalError
from focal.faces.remote import DETECT_PATH, HEALTH_PATH
from focal.faces.workers import DetectionUnavailable, DetectorPool
from focal.pipeline import probe
from focal.service.parts import detector_pool
from focal.service.transform import limits_from


def _error(error: FocalError) -> Response:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}}, status_code=error.status
    )


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = FocalError(
        ErrorKind.SOURCE_TOO_LARGE,
        f"the image is over {limit:,} bytes (FOCAL_MAX_SOURCE_BYTES); send a smaller one",
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def create_detector_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    limits = limits_from(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = pool = detector_pool(settings, limits)
        # Loading the model takes seconds: /healthz says "starting" meanwhile.
        warming = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(pool.start, wait_ready=True)
        )
        yield
        await pool.aclose()
        await warming

    app = FastAPI(title="Focal face detector", version=__version__, lifespan=lifespan)

    @app.exception_handler(FocalError)
    async def on_focal_error(request: Request, error: FocalError) -> Response:
        return _error(error)

    @app.post(DETECT_PATH)
    async def detect(request: Request) -> Response:
        """Faces in the image sent as the body (any format Focal reads)."""
        pool: DetectorPool = request.app.state.pool
        data = await _body(request, limits.max_bytes)
        if not data:
            raise FocalError(ErrorKind.BAD_REQUEST, "send the image's bytes as the request body")
        # A bad image is the caller's to fix (4xx), told apart here from a failing detector.
        await asyncio.to_thread(probe, data, limits)
        try:
            result = await pool.detect(data)
        except DetectionUnavailable as error:
            raise FocalError(ErrorKind.BUSY, f"face detection failed: {error.reason}") from None
        return JSONResponse(result.to_dict())

    @app.get(HEALTH_PATH)
    async def health(request: Request) -> Response:
        """200 once a worker has its model loaded, else 503 with the pool's state."""
        pool: DetectorPool = request.app.state.pool
        body: dict[str, str] = {"status": pool.state, "version": __version__}
        if pool.start_failure is not None:
            body["error"] = pool.start_failure
        return JSONResponse(body, status_code=200 if pool.state == "warm" else 503)

    return app
