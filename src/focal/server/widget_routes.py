"""The upload widget's files (`/widget/v1/...`) and the limits a page checks files against.

- `/widget/v1/focal-upload.js`: the classic-script build of the element, which runs from a
  plain `<script>` and from `<script type="module">` alike;
- `/widget/v1/focal-upload.mjs`: the ES module itself (what the npm package ships);
- `/widget/v1/limits`: what an upload may be (bytes, pixels, side, formats), public.

Pages on any origin load these (a module script is fetched with CORS), so each answer allows
every origin: they hold no secret. The scripts are cached for a week and revalidated by
ETag; `v1` changes only compatibly, a breaking change gets `v2`.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from focal.header_values import etag_matches
from focal.pipeline.source import ACCEPTED_FORMATS
from focal.server.classic_script import classic_script
from focal.server.openapi import get_and_head
from focal.server.state import parts_of
from focal.web import ASSETS

# Files and a page's facts, not the API: left out of the OpenAPI document (README documents
# them).
router = APIRouter(include_in_schema=False)
WIDGET_SOURCE = ASSETS / "widget" / "focal-upload.js"
CLASSIC_PATH = "/widget/v1/focal-upload.js"
JAVASCRIPT = "text/javascript; charset=utf-8"
SCRIPT_CACHE = "public, max-age=604800"  # a week, then a revalidation by ETag
LIMITS_CACHE = "public, max-age=300"  # settings change only with a restart
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


@dataclass(frozen=True)
class Script:
    body: bytes
    etag: str

    @classmethod
    def of(cls, text: str) -> Script:
        body = text.encode()
        return cls(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@functools.cache
def module_script() -> Script:
    return Script.of(WIDGET_SOURCE.read_text(encoding="utf-8"))


@functools.cache
def classic_build() -> Script:
    return Script.of(classic_script(WIDGET_SOURCE.read_text(encoding="utf-8"), CLASSIC_PATH))


def script_response(request: Request, script: Script) -> Response:
    headers = {**PUBLIC, "Cache-Control": SCRIPT_CACHE, "ETag": script.etag}
    if etag_matches(request.headers.get("if-none-match", ""), script.etag):
        return Response(status_code=304, headers=headers)
    return Response(script.body, media_type=JAVASCRIPT, headers=headers)


class UploadLimits(BaseModel):
    """What one upload may be: the server refuses more; the widget checks before sending."""

    maxBytes: int  # noqa: N815 (the JSON's names)
    maxPixels: int  # noqa: N815
    maxSide: int  # noqa: N815
    types: list[str]


@get_and_head(router, CLASSIC_PATH, response_class=Response)
async def widget_classic(request: Request) -> Response:
    """The `<focal-upload>` element, for `<script src>` and `<script type="module">`."""
    return script_response(request, classic_build())


@get_and_head(router, "/widget/v1/focal-upload.mjs", response_class=Response)
async def widget_module(request: Request) -> Response:
    """The `<focal-upload>` element as an ES module (exports `FocalUploadElement`)."""
    return script_response(request, module_script())


@router.get("/widget/v1/limits", response_model=UploadLimits)
async def upload_limits(request: Request) -> Response:
    """The hosted upload limits: FOCAL_HOSTED_MAX_BYTES, FOCAL_MAX_PIXELS, FOCAL_MAX_SIDE."""
    limits = parts_of(request).hosted.limits
    body = UploadLimits(
        maxBytes=limits.max_bytes,
        maxPixels=limits.max_pixels,
        maxSide=limits.max_side,
        types=list(ACCEPTED_FORMATS),
    )
    headers = {**PUBLIC, "Cache-Control": LIMITS_CACHE}
    return JSONResponse(body.model_dump(), headers=headers)
