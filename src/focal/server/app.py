"""FastAPI app: handlers parse the request, call the service and map errors to HTTP."""

from __future__ import annotations

import asyncio
import functools
import logging
import mimetypes
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.routing import BaseRoute

from focal import __version__
from focal.catalog.times import now_micros
from focal.config import Settings, load_settings
from focal.errors import ErrorKind, FocalError
from focal.memory import SERVER_ARENAS, limit_malloc_arenas
from focal.server.access_log import AccessLog
from focal.server.api_models import DELIVERY_RESPONSES, ORIGINAL_RESPONSE, TEXT_ERRORS
from focal.server.body_limit import BodyLimit, RouteBodyLimits
from focal.server.calls_errors import CALLS_PATHS, is_session_path, session_error
from focal.server.cors import PathScopedCORS
from focal.server.dashboard_routes import router as dashboard_routes
from focal.server.hosted_api import ENVELOPED_PATHS, error_envelope
from focal.server.hosted_api import router as hosted_api
from focal.server.image_route import PATTERN, ImageRoute, deliver_image
from focal.server.images_api import router as images_api
from focal.server.metrics import RequestMetrics, ServiceCollector
from focal.server.openapi import get_and_head, published_schema
from focal.server.process_metrics import ProcessMetrics, summed_registry
from focal.server.readiness import ReadinessParts, readiness
from focal.server.state import parts_of
from focal.server.stream_api import ENVELOPED_STREAM_PATHS
from focal.server.stream_api import router as stream_api
from focal.server.usage_api import router as usage_api
from focal.server.widget_routes import router as widget_routes
from focal.service.metering import Clock
from focal.service.parts import Parts, build_parts
from focal.stream.service import ingesting

log = logging.getLogger(__name__)


def error_response(error: FocalError) -> Response:
    headers = {"Cf-Resized": f"err={error.code}", "Cache-Control": "no-store"}
    if error.kind is ErrorKind.BUSY:
        headers["Retry-After"] = "1"
    if error.kind is ErrorKind.NOT_AUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer realm="focal"'
    return PlainTextResponse(f"{error.message}\n", status_code=error.status, headers=headers)


def error_for(path: str, error: FocalError) -> Response:
    """The error in the shape of the API the path belongs to; logged here, once, every
    FocalError answered passing through (a refusal's cause is its message: no traceback)."""
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(level, "answered %d, error %d: %s", error.status, error.code, error.message)
    if is_session_path(path):
        return session_error(error)
    if path.startswith(ENVELOPED_PATHS + ENVELOPED_STREAM_PATHS + (CALLS_PATHS,)):
        return error_envelope(error)
    return error_response(error)


def invalid_parameters(error: RequestValidationError) -> FocalError:
    """FastAPI's refusal of a parameter (`per_page=abc`), as the API's 400."""
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item.get("loc", ())[1:]) or "the request"
        problems.append(f"{name}: {item.get('msg', 'invalid')}")
    return FocalError(ErrorKind.BAD_REQUEST, "invalid parameter " + "; ".join(problems))


def missing_source() -> FocalError:
    return FocalError(
        ErrorKind.BAD_OPTIONS,
        "an image URL is /cdn-cgi/image/<options>/<source>, "
        "e.g. /cdn-cgi/image/width=400/photo.jpg: options and a source are both needed",
    )


def readiness_parts(parts: Parts) -> ReadinessParts:
    """What /readyz checks, of the parts the app's start-up built."""
    return ReadinessParts(parts.catalog, parts.blobs, parts.detectors)


def include_calls(app: FastAPI) -> None:
    """The Calls API and its page (focal[calls]: aiortc is imported only here)."""
    from focal.server.calls_api import apps, sessions
    from focal.server.calls_page import router as calls_page

    app.include_router(apps)
    app.include_router(sessions)
    app.include_router(calls_page)


def serving_app() -> FastAPI:
    """The app of one `focal serve` process, from the environment; its malloc arenas are set
    first, before its threads start (they are per process)."""
    limit_malloc_arenas(SERVER_ARENAS)
    return create_app()


def create_app(settings: Settings | None = None, clock: Clock = now_micros) -> FastAPI:
    """`clock` is what metering's days and windows run on."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.parts = parts = build_parts(settings, clock)
        registry.register(ServiceCollector(parts))
        await asyncio.to_thread(parts.hosted.sweep)  # uploads a crash left half done
        if settings.detector_warm_start:
            # Load the face model in the background so the first gravity=face request finds
            # a warm worker; serving does not wait for it.
            warming = asyncio.get_running_loop().run_in_executor(
                None, functools.partial(parts.detectors.start, wait_ready=True)
            )
        background = [
            asyncio.create_task(parts.meter.flush_every(settings.usage_flush_seconds)),
            asyncio.create_task(parts.calls_egress.flush_every(settings.usage_flush_seconds)),
        ]
        if processes is not None:  # the other server processes read this one's counts
            background.append(asyncio.create_task(processes.write_every()))
        if parts.calls is not None:
            background.append(asyncio.create_task(parts.calls.sweep_every(1.0)))
        async with AsyncExitStack() as ingest:
            if settings.stream_enabled:
                await ingest.enter_async_context(
                    ingesting(settings, parts.stream, parts.blobs, parts.meter.usage)
                )
            yield
        for task in background:
            task.cancel()
        if processes is not None:
            processes.remove()
        await parts.aclose()  # stops a warm start still loading, too
        if settings.detector_warm_start:
            await warming

    registry = CollectorRegistry()  # one per app: several apps may share a process (tests)
    # Several server processes: /metrics answers with their sum (server/process_metrics.py).
    processes = (
        ProcessMetrics(settings.data_dir / "metrics", registry) if settings.processes > 1 else None
    )
    summed = None if processes is None else summed_registry(processes)
    # No redirects to add or drop a trailing slash: each URL gets its answer directly.
    # The documentation's pages (/docs, /redoc) load their scripts from this server, not a CDN.
    app = FastAPIOffline(
        title="Focal", version=__version__, lifespan=lifespan, redirect_slashes=False
    )
    app.openapi = functools.partial(published_schema, app)  # type: ignore[method-assign]

    @functools.cache
    def documented_image_route() -> BaseRoute | None:
        return next((route for route in app.routes if getattr(route, "path", "") == PATTERN), None)

    # Innermost: deliveries are answered here, past Focal's middleware and before routing.
    app.add_middleware(ImageRoute, route=documented_image_route, refuse=error_for)
    app.add_middleware(BodyLimit, limits=RouteBodyLimits.from_settings(settings), refuse=error_for)
    # Outside the body limit: a refusal still carries the CORS headers a page needs to read it.
    app.add_middleware(PathScopedCORS, **PathScopedCORS.options(settings))
    app.add_middleware(RequestMetrics, registry=registry)  # outside: refusals are counted
    # Outermost: the request id is on every line and response, the access line times it all.
    app.add_middleware(AccessLog, enabled=settings.access_log)

    @app.exception_handler(FocalError)
    async def on_focal_error(request: Request, error: FocalError) -> Response:
        return error_for(request.url.path, error)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_parameter(request: Request, error: RequestValidationError) -> Response:
        return error_for(request.url.path, invalid_parameters(error))

    @get_and_head(app, PATTERN, response_class=Response, responses=DELIVERY_RESPONSES)
    async def transform_image(request: Request, options: str, source: str) -> Response:
        """Serve a variant of an original: `<options>` as in `width=400,fit=cover`."""
        # Complete URLs are answered by ImageRoute before routing; this is their schema, and
        # the answer to the one left, with no source after the options.
        if not source:
            raise missing_source()
        query = request.url.query
        return await deliver_image(parts_of(request), request.scope, options, source, query)

    @get_and_head(app, "/cdn-cgi/image", include_in_schema=False)
    @get_and_head(app, "/cdn-cgi/image/{incomplete:path}", include_in_schema=False)
    async def incomplete_image_url(incomplete: str = "") -> Response:
        """`/cdn-cgi/image/photo.jpg`: one part where options and a source are needed."""
        raise missing_source()

    if settings.serve_originals:

        @get_and_head(
            app,
            "/originals/{path:path}",
            response_class=Response,
            responses={**ORIGINAL_RESPONSE, **TEXT_ERRORS},
        )
        async def original(request: Request, path: str) -> Response:
            """An original from the origin folder, byte for byte: onerror=redirect's target."""
            local = await asyncio.to_thread(parts_of(request).origin.read, path)
            media_type = mimetypes.guess_type(local.path.name)[0] or "application/octet-stream"
            headers = {"Cache-Control": settings.cache_control}
            return Response(local.data, media_type=media_type, headers=headers)

    app.include_router(images_api)
    app.include_router(hosted_api)
    app.include_router(usage_api)
    app.include_router(widget_routes)
    app.include_router(dashboard_routes)
    app.include_router(stream_api)
    if settings.calls_enabled:
        include_calls(app)

    @get_and_head(app, "/images/{path:path}/", include_in_schema=False)
    @get_and_head(app, "/cdn-cgi/imagedelivery/{path:path}/", include_in_schema=False)
    async def hosted_url_with_trailing_slash(path: str) -> Response:
        """After the hosted routes: what they left is a URL ending in '/', not a variant."""
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            "a hosted image URL ends with its variant: /images/<id>/<variant>, "
            "with no '/' after the variant",
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus' text format."""
        if summed is None:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        body = await asyncio.to_thread(generate_latest, summed)  # reads the others' files
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz")
    async def ready(request: Request) -> Response:
        """200 when the catalog and the blob storage work, else 503 naming what fails."""
        status, body = await readiness(readiness_parts(parts_of(request)))
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return app
