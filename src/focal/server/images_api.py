"""`POST /transform` and `POST /info`: the Images SDK's remote mode.

One multipart form per request: a part per input image (`input-0`, `input-1`, ...) and, for
/transform, one JSON part (`chain`) with the flattened chain. Callers present a bearer
token (`focal token create`, or FOCAL_API_TOKENS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from focal.errors import ErrorKind, FocalError
from focal.json_input import load_json
from focal.pipeline.flat_chain import CHAIN_PART, FlatChain, input_part
from focal.pipeline.operations import MAX_INPUTS
from focal.server.api_models import (
    IMAGE_RESPONSE,
    TEXT_ERRORS,
    InfoForm,
    InputInfo,
    TransformForm,
    form_body,
)
from focal.server.auth import AUTHORIZED
from focal.server.state import parts_of
from focal.service.parts import Parts

# The token is checked before the handler runs, and so before any byte of the body is read.
router = APIRouter(dependencies=AUTHORIZED, responses=TEXT_ERRORS)


async def _form(request: Request) -> FormData:
    """The whole form; its size is bounded as it streams in (server/body_limit.py)."""
    try:
        return await request.form(max_files=MAX_INPUTS, max_fields=1)
    except HTTPException as error:  # Starlette's answer to a malformed multipart body
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"malformed multipart form: {error.detail}"
        ) from None


async def _inputs(form: FormData, max_bytes: int) -> list[bytes]:
    inputs: list[bytes] = []
    while (part := form.get(input_part(len(inputs)))) is not None:
        if not isinstance(part, UploadFile):
            raise FocalError(ErrorKind.BAD_REQUEST, f"part {input_part(len(inputs))} is no file")
        if part.size is not None and part.size > max_bytes:
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"input {len(inputs)} is {part.size:,} bytes; the limit is {max_bytes:,} bytes",
            )
        inputs.append(await part.read())
    if not inputs:
        raise FocalError(ErrorKind.BAD_REQUEST, f"no input image: send a part {input_part(0)}")
    return inputs


def _chain(form: FormData) -> FlatChain:
    text = form.get(CHAIN_PART)
    if not isinstance(text, str):
        raise FocalError(ErrorKind.BAD_REQUEST, f"send the chain as a JSON part {CHAIN_PART!r}")
    return FlatChain.from_json(load_json(text, f"the {CHAIN_PART} part"))


async def _admitted(
    request: Request, work: Callable[[Parts, FormData], Awaitable[Response]]
) -> Response:
    parts = parts_of(request)
    # The body is read before a place in image work is taken: a client sending slowly holds
    # no place that a ready request could use.
    form = await _form(request)
    try:
        async with parts.jobs.admit():
            return await work(parts, form)
    finally:
        await form.close()


@router.post(
    "/transform",
    response_class=Response,
    responses=IMAGE_RESPONSE,
    openapi_extra=form_body(TransformForm),
)
async def transform(request: Request) -> Response:
    """Run a flattened chain on the input images; answer with the encoded result."""

    async def work(parts: Parts, form: FormData) -> Response:
        chain = _chain(form)
        inputs = await _inputs(form, parts.settings.max_input_bytes)
        output = await parts.chains.run(inputs, chain)
        headers = {
            "Focal-Width": str(output.width),
            "Focal-Height": str(output.height),
            "Cache-Control": "no-store",
        }
        return Response(output.data, media_type=output.media_type, headers=headers)

    return await _admitted(request, work)


@router.post("/info", response_model=InputInfo, openapi_extra=form_body(InfoForm))
async def info(request: Request) -> Response:
    """Format, file size and size of the one input image."""

    async def work(parts: Parts, form: FormData) -> Response:
        inputs = await _inputs(form, parts.settings.max_input_bytes)
        if len(inputs) != 1:
            raise FocalError(ErrorKind.BAD_REQUEST, "info takes exactly one input image")
        return JSONResponse(await parts.chains.describe(inputs[0]))

    return await _admitted(request, work)
