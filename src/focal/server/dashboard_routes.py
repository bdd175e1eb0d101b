"""`/dashboard`: the admin pages, served from the installed package, and their upload grant.

The pages are static files (src/focal/web/dashboard/, vendored libraries in web/vendor/);
every datum they show comes through the token-protected API, with the token the person
signed in with, which stays in the tab's sessionStorage.

Uploads go through the `<focal-upload>` widget, whose contract is to POST the page's
cookies to an `authorize-url` and get a one-time upload URL back. The dashboard's token is
no cookie, so the signed-in page first asks for an upload grant (`POST
/dashboard/upload-grant`, with the token): a short-lived cookie, signed with the hosted
signing keys like a signed URL, scoped to the one path that mints upload URLs
(`/dashboard/authorize-upload`), HttpOnly and SameSite=Strict, so no other site can use it.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from focal.errors import ErrorKind, FocalError
from focal.server.api_models import TEXT_ERRORS, DirectUploadURL
from focal.server.auth import AUTHORIZED
from focal.server.state import parts_of
from focal.signing import url_signature
from focal.web import ASSETS

AUTHORIZE_PATH = "/dashboard/authorize-upload"
GRANT_COOKIE = "focal_upload_grant"
GRANT_SECONDS = 30 * 60  # a grant outlives a long upload session, not a day
# Revalidated on every load (ETag): the assets are not versioned, and a new release must
# show at once.
ASSET_CACHE = "no-cache"
# The page holds an API token: no other site may frame it (clickjacking), no plugin run.
PAGE_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"


router = APIRouter(responses=TEXT_ERRORS)
# One root per folder: StaticFiles keeps every path inside its root, so neither reaches
# the package's other files.
_pages = StaticFiles(directory=str(ASSETS / "dashboard"), check_dir=False)
_vendored = StaticFiles(directory=str(ASSETS / "vendor"), check_dir=False)


async def _asset(request: Request, asset: str) -> Response:
    """A dashboard URL's file: its own folder's, or a vendored library's."""
    vendored = asset.removeprefix("vendor/")
    files, path = (_vendored, vendored) if vendored != asset else (_pages, asset)
    response = await files.get_response(path, request.scope)
    if response.status_code in (200, 304):
        response.headers["Cache-Control"] = ASSET_CACHE
    return response


@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Response:
    """The dashboard's one page; its screens are routes of the page's own."""
    response = await _asset(request, "index.html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@router.get("/dashboard/{asset:path}", include_in_schema=False)
async def dashboard_asset(request: Request, asset: str) -> Response:
    if not asset:
        return await dashboard(request)
    return await _asset(request, asset)


def _grant_value(key: str, expires: int) -> str:
    return f"{expires}.{url_signature(key, AUTHORIZE_PATH, expires)}"


# The grant's two routes are the dashboard's own plumbing, not part of the API: unpublished.
@router.post(
    "/dashboard/upload-grant", dependencies=AUTHORIZED, status_code=204, include_in_schema=False
)
async def upload_grant(request: Request) -> Response:
    """Let this browser mint upload URLs at /dashboard/authorize-upload for a while."""
    keys = await _signing_keys(request)
    expires = int(time.time()) + GRANT_SECONDS
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        GRANT_COOKIE,
        _grant_value(keys[0], expires),
        max_age=GRANT_SECONDS,
        path=AUTHORIZE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.delete("/dashboard/upload-grant", status_code=204, include_in_schema=False)
async def drop_upload_grant() -> Response:
    """Signing out: this browser's grant is forgotten at once, not in half an hour."""
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(GRANT_COOKIE, path=AUTHORIZE_PATH, httponly=True, samesite="strict")
    return response


async def _signing_keys(request: Request) -> list[str]:
    keys = await asyncio.to_thread(parts_of(request).hosted_catalog.signing_keys)
    return [secret for _, secret in keys]


@router.post(AUTHORIZE_PATH, response_model=DirectUploadURL, include_in_schema=False)
async def authorize_upload(request: Request) -> JSONResponse:
    """One one-time upload URL, for a browser holding an upload grant (the widget's call)."""
    grant = request.cookies.get(GRANT_COOKIE, "")
    expires, _, signature = grant.partition(".")
    if not expires or not signature:
        raise FocalError(
            ErrorKind.NOT_AUTHENTICATED,
            "no upload grant: sign in to the dashboard again to upload",
        )
    hosted = parts_of(request).hosted
    await hosted.verify_signature(
        AUTHORIZE_PATH, {"exp": expires, "sig": signature}, what="upload grant"
    )
    record, url = await hosted.create_direct_upload(
        image_id=None,
        metadata={},
        require_signed_urls=False,
        expiry=None,
        base_url=str(request.base_url).rstrip("/"),
    )
    return JSONResponse({"id": record.id, "uploadURL": url}, headers={"Cache-Control": "no-store"})
