"""The hosted images API (`/images/v1`, `/images/v2`) and delivery of hosted variants.

Answers use the hosted product's envelope: `{result, success, errors, messages}`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from focal.catalog import HostedCatalog, ImageRecord, VariantRecord
from focal.catalog.images import MAX_PAGE, encode_metadata
from focal.errors import ErrorKind, FocalError
from focal.json_input import load_json, validated
from focal.server.api_models import (
    DELIVERY_RESPONSES,
    ENVELOPE_ERRORS,
    ORIGINAL_RESPONSE,
    DirectUploadFile,
    DirectUploadForm,
    DirectUploadJson,
    DirectUploadURL,
    Empty,
    Envelope,
    HostedConfig,
    HostedConfigChanges,
    HostedImage,
    ImageChanges,
    ImageFaces,
    ImageList,
    ImageListV2,
    ImageStats,
    OneVariant,
    SigningKeys,
    UploadForm,
    VariantBody,
    VariantList,
    form_body,
    json_body,
)
from focal.server.auth import AUTHORIZED
from focal.server.openapi import get_and_head
from focal.server.responses import delivery_response
from focal.server.state import parts_of
from focal.service.hosted import (
    HostedImages,
    describe,
    shown_variant_options,
    variant_record,
)

# The API: the token is checked before the handler runs; answers and refusals enveloped.
api = APIRouter(dependencies=AUTHORIZED, responses=ENVELOPE_ERRORS)
# What a signed URL or an image URL opens, without a token.
public = APIRouter()
ENVELOPED_PATHS = ("/images/v1", "/images/v2", "/upload/")


def envelope(result: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"result": result, "success": True, "errors": [], "messages": []}, status_code=status
    )


def error_envelope(error: FocalError) -> JSONResponse:
    body = {
        "result": None,
        "success": False,
        "errors": [{"code": error.code, "message": error.message}],
        "messages": [],
    }
    return JSONResponse(body, status_code=error.status, headers={"Cache-Control": "no-store"})


def _hosted(request: Request) -> HostedImages:
    return parts_of(request).hosted


def _catalog(request: Request) -> HostedCatalog:
    return parts_of(request).hosted_catalog


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _described(request: Request, record: ImageRecord) -> dict[str, Any]:
    variants = await asyncio.to_thread(_catalog(request).list_variants)
    base = _base_url(request)
    urls = [f"{base}/images/{record.id}/{variant.name}" for variant in variants]
    return describe(record, urls)


async def _form(request: Request) -> FormData:
    """The whole form; its size is bounded as it streams in (server/body_limit.py)."""
    try:
        return await request.form(max_files=1, max_fields=8)
    except HTTPException as error:
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"malformed multipart form: {error.detail}"
        ) from None


def _metadata(text: object) -> dict[str, Any]:
    """The metadata form field, measured as it will be stored (see `_checked_metadata`)."""
    if text is None or text == "":
        return {}
    if not isinstance(text, str):
        raise FocalError(ErrorKind.BAD_REQUEST, "metadata must be a JSON object in a form field")
    return _checked_metadata(load_json(text, "metadata"))


def _checked_metadata(value: object) -> dict[str, Any]:
    """Metadata from upload or PATCH, refused now if its stored JSON would be too long."""
    if not isinstance(value, dict):
        raise FocalError(ErrorKind.BAD_REQUEST, "metadata must be a JSON object")
    encode_metadata(value)  # the one measure: bytes of the stored JSON
    return value


def _flag(value: object, name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise FocalError(ErrorKind.BAD_REQUEST, f"{name} must be true or false")


async def _file(form: FormData, limit: int) -> tuple[bytes, str | None] | None:
    part = form.get("file")
    if part is None:
        return None
    if not isinstance(part, UploadFile):
        raise FocalError(ErrorKind.BAD_REQUEST, "the file field must be a file upload")
    data = await part.read(limit + 1)
    if len(data) > limit:
        raise FocalError(
            ErrorKind.SOURCE_TOO_LARGE, f"the image is over {limit:,} bytes, the hosted limit"
        )
    return data, part.filename


# --- images ------------------------------------------------------------------------------


@api.post("/images/v1", response_model=Envelope[HostedImage], openapi_extra=form_body(UploadForm))
async def upload(request: Request) -> Response:
    """Upload an original: a `file` part, or a `url` to fetch it from."""
    hosted = _hosted(request)
    form = await _form(request)
    try:
        file = await _file(form, hosted.max_upload_bytes)
        url = form.get("url")
        if (file is None) == (not url):
            raise FocalError(ErrorKind.BAD_REQUEST, "send either a file or a url, not both")
        if file is None:
            data, filename = await hosted.fetch(str(url)), str(url).rsplit("/", 1)[-1] or None
        else:
            data, filename = file
        image_id = form.get("id")
        record = await hosted.upload(
            data,
            filename=filename,
            image_id=str(image_id) if image_id else None,
            metadata=_metadata(form.get("metadata")),
            require_signed_urls=_flag(form.get("requireSignedURLs"), "requireSignedURLs"),
        )
    finally:
        await form.close()
    return envelope(await _described(request, record))


@api.get("/images/v1", response_model=Envelope[ImageList])
async def list_v1(request: Request, page: int = 1, per_page: int = 50) -> Response:
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 100:
        raise FocalError(ErrorKind.BAD_REQUEST, f"page is 1 to {MAX_PAGE:,}; per_page is 1 to 100")
    records = await asyncio.to_thread(_catalog(request).list_images_v1, page, per_page)
    return envelope({"images": [await _described(request, r) for r in records]})


@api.get("/images/v2", response_model=Envelope[ImageListV2])
async def list_v2(
    request: Request,
    per_page: int = 1000,
    continuation_token: str | None = None,
    sort_order: str = "desc",
) -> Response:
    if not 10 <= per_page <= 10_000 or sort_order not in ("asc", "desc"):
        raise FocalError(
            ErrorKind.BAD_REQUEST, "per_page is 10 to 10000; sort_order is asc or desc"
        )
    records, token = await asyncio.to_thread(
        lambda: _catalog(request).list_images_v2(
            per_page=per_page, continuation_token=continuation_token, sort_order=sort_order
        )
    )
    images = [await _described(request, r) for r in records]
    return envelope({"images": images, "continuation_token": token})


@api.get("/images/v1/stats", response_model=Envelope[ImageStats])
async def stats(request: Request) -> Response:
    count, size = await asyncio.to_thread(_catalog(request).stats)
    return envelope({"count": {"current": count}, "bytes": {"current": size}})


def _direct_upload_body() -> dict[str, Any]:
    """OpenAPI: the draft as a form (multipart or urlencoded) or as JSON."""
    extra = form_body(DirectUploadForm, required=False, urlencoded=True)
    extra["requestBody"]["content"].update(json_body(DirectUploadJson)["requestBody"]["content"])
    return extra


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _direct_upload_fields(request: Request) -> DirectUploadJson:
    """The draft's fields from a form, from JSON, or none (an empty body): any other body
    is refused rather than ignored."""
    media_type = _media_type(request)
    if media_type == "application/json" or media_type.endswith("+json"):
        fields = validated(DirectUploadJson, await _json(request), "the body")
        if fields.metadata is not None:
            _checked_metadata(fields.metadata)
        return fields
    if media_type in FORM_TYPES:
        form = await _form(request)
        expiry = form.get("expiry")
        image_id = form.get("id")
        return DirectUploadJson(
            id=str(image_id) if image_id else None,
            metadata=_metadata(form.get("metadata")),
            requireSignedURLs=_flag(form.get("requireSignedURLs"), "requireSignedURLs"),
            expiry=str(expiry) if expiry else None,
        )
    if media_type == "" and not await request.body():
        return DirectUploadJson()
    raise FocalError(
        ErrorKind.UNSUPPORTED_BODY,
        f"a body of type {media_type or 'unknown'!r} is not read here: send JSON "
        "(application/json) or a form (multipart/form-data or "
        "application/x-www-form-urlencoded)",
    )


@api.post(
    "/images/v2/direct_upload",
    response_model=Envelope[DirectUploadURL],
    openapi_extra=_direct_upload_body(),
)
async def create_direct_upload(request: Request) -> Response:
    """A one-time upload URL for a browser; the image is a draft until it is used."""
    fields = await _direct_upload_fields(request)
    record, url = await _hosted(request).create_direct_upload(
        image_id=fields.id or None,
        metadata=fields.metadata or {},
        require_signed_urls=bool(fields.requireSignedURLs),
        expiry=fields.expiry,
        base_url=_base_url(request),
    )
    return envelope({"id": record.id, "uploadURL": url})


@public.post(
    "/upload/{image_id:path}",
    responses=ENVELOPE_ERRORS,
    response_model=Envelope[HostedImage],
    openapi_extra=form_body(DirectUploadFile),
)
async def direct_upload(request: Request, image_id: str) -> Response:
    """The one-time upload: needs no token, only the signed URL it was given."""
    hosted = _hosted(request)
    # The signature first: a request without a valid one gets no byte of its body read.
    await hosted.verify_signature(request.url.path, request.query_params, what="upload URL")
    form = await _form(request)
    try:
        file = await _file(form, hosted.max_upload_bytes)
        if file is None:
            raise FocalError(ErrorKind.BAD_REQUEST, "send the image as a multipart `file` part")
        data, filename = file
        record = await hosted.direct_upload(
            image_id, request.url.path, dict(request.query_params), data, filename
        )
    finally:
        await form.close()
    return envelope(await _described(request, record))


# --- variants ----------------------------------------------------------------------------


def _variant_json(variant: VariantRecord) -> dict[str, Any]:
    return {
        "id": variant.name,
        "options": shown_variant_options(variant),
        "neverRequireSignedURLs": variant.never_require_signed_urls,
    }


def _variant_from(body: Any, name: str | None) -> VariantRecord:
    variant = validated(VariantBody, body, "the variant")
    name = name or variant.id
    if not isinstance(name, str) or not name or "=" in name or "/" in name or len(name) > 99:
        raise FocalError(
            ErrorKind.BAD_REQUEST, "a variant needs an id: letters, digits, '-' or '_'"
        )
    return variant_record(name, variant.options.model_dump(), variant.neverRequireSignedURLs)


async def _json(request: Request) -> Any:
    return load_json(await request.body(), "the body")


@api.get("/images/v1/variants", response_model=Envelope[VariantList])
async def list_variants(request: Request) -> Response:
    variants = await asyncio.to_thread(_catalog(request).list_variants)
    return envelope({"variants": {v.name: _variant_json(v) for v in variants}})


@api.post(
    "/images/v1/variants",
    response_model=Envelope[OneVariant],
    openapi_extra=json_body(VariantBody),
)
async def create_variant(request: Request) -> Response:
    variant = _variant_from(await _json(request), None)
    catalog = _catalog(request)
    saved = await asyncio.to_thread(lambda: catalog.put_variant(variant, create=True))
    return envelope({"variant": _variant_json(saved)})


@api.get("/images/v1/variants/{name}", response_model=Envelope[OneVariant])
async def get_variant(request: Request, name: str) -> Response:
    variant = await asyncio.to_thread(_catalog(request).get_variant, name)
    if variant is None:
        raise FocalError(ErrorKind.NOT_FOUND, f"no variant named {name!r}")
    return envelope({"variant": _variant_json(variant)})


@api.patch(
    "/images/v1/variants/{name}",
    response_model=Envelope[OneVariant],
    openapi_extra=json_body(VariantBody),
)
async def update_variant(request: Request, name: str) -> Response:
    variant = _variant_from(await _json(request), name)
    catalog = _catalog(request)
    saved = await asyncio.to_thread(lambda: catalog.put_variant(variant, create=False))
    return envelope({"variant": _variant_json(saved)})


@api.delete("/images/v1/variants/{name}", response_model=Envelope[Empty])
async def delete_variant(request: Request, name: str) -> Response:
    if not await asyncio.to_thread(_catalog(request).delete_variant, name):
        raise FocalError(ErrorKind.NOT_FOUND, f"no variant named {name!r}")
    return envelope({})


# --- settings ----------------------------------------------------------------------------


@api.get("/images/v1/config", response_model=Envelope[HostedConfig])
async def get_config(request: Request) -> Response:
    return envelope(await _hosted(request).config())


@api.patch(
    "/images/v1/config",
    response_model=Envelope[HostedConfig],
    openapi_extra=json_body(HostedConfigChanges),
)
async def change_config(request: Request) -> Response:
    """Change the hosted API's settings; the catalog keeps them for every server."""
    changes = validated(HostedConfigChanges, await _json(request), "the body")
    return envelope(await _hosted(request).change_config(changes.model_dump()))


# --- signing keys ------------------------------------------------------------------------


def _keys_json(keys: list[tuple[str, str]]) -> dict[str, Any]:
    return {"keys": [{"name": name, "value": secret} for name, secret in keys]}


@api.get("/images/v1/keys", response_model=Envelope[SigningKeys])
async def list_keys(request: Request) -> Response:
    return envelope(_keys_json(await asyncio.to_thread(_catalog(request).signing_keys)))


@api.put("/images/v1/keys/rotate", response_model=Envelope[SigningKeys])
async def rotate_keys(request: Request) -> Response:
    """Add a new signing key; the previous one stays valid until the next rotation."""
    keys = await asyncio.to_thread(_catalog(request).rotate_signing_key)
    return envelope(_keys_json(keys))


# --- one image (after the fixed paths above, which its path pattern would also match) -------


@api.get(
    "/images/v1/{image_id:path}/blob",
    response_class=Response,
    responses=ORIGINAL_RESPONSE,
)
async def blob(request: Request, image_id: str) -> Response:
    record, data = await _hosted(request).original(image_id)
    return Response(data, media_type=record.format or "application/octet-stream")


@api.get("/images/v1/{image_id:path}/faces", response_model=Envelope[ImageFaces])
async def faces(request: Request, image_id: str) -> Response:
    """The faces found in the original, by the detector gravity=face uses (boxes only)."""
    record, data = await _hosted(request).original(image_id)
    lookup = await parts_of(request).faces.locate(data, record.content_hash)
    found: dict[str, Any] = {
        "width": record.width,
        "height": record.height,
        "faces": lookup.describe(),
        "detection": lookup.origin,
    }
    if lookup.reason:
        found["reason"] = lookup.reason
    return envelope(found)


@api.get("/images/v1/{image_id:path}", response_model=Envelope[HostedImage])
async def get_image(request: Request, image_id: str) -> Response:
    return envelope(await _described(request, await _hosted(request).get(image_id)))


@api.patch(
    "/images/v1/{image_id:path}",
    response_model=Envelope[HostedImage],
    openapi_extra=json_body(ImageChanges),
)
async def update_image(request: Request, image_id: str) -> Response:
    changes = validated(ImageChanges, await _json(request), "the body")
    metadata = None if changes.metadata is None else _checked_metadata(changes.metadata)
    catalog = _catalog(request)
    record = await asyncio.to_thread(
        lambda: catalog.update_image(
            image_id,
            metadata=metadata,
            require_signed_urls=changes.requireSignedURLs,
        )
    )
    if record is None:
        raise FocalError(ErrorKind.NOT_FOUND, f"no image with id {image_id!r}")
    return envelope(await _described(request, record))


@api.delete("/images/v1/{image_id:path}", response_model=Envelope[Empty])
async def delete_image(request: Request, image_id: str) -> Response:
    await _hosted(request).delete(image_id)
    return envelope({})


# --- delivery ----------------------------------------------------------------------------


async def _deliver(request: Request, image_id: str, variant: str) -> Response:
    headers = {name.lower(): value for name, value in request.headers.items()}
    result = await _hosted(request).deliver(
        image_id, variant, request.url.path, dict(request.query_params), headers
    )
    return delivery_response(result)


@get_and_head(
    public,
    "/cdn-cgi/imagedelivery/{account_hash}/{image_id:path}/{variant}",
    response_class=Response,
    responses=DELIVERY_RESPONSES,
)
async def deliver_full(
    request: Request, account_hash: str, image_id: str, variant: str
) -> Response:
    """A hosted image's variant: a variant name, or options when flexible variants are on."""
    return await _deliver(request, image_id, variant)


@get_and_head(
    public,
    "/images/{image_id:path}/{variant}",
    response_class=Response,
    responses=DELIVERY_RESPONSES,
)
async def deliver_short(request: Request, image_id: str, variant: str) -> Response:
    return await _deliver(request, image_id, variant)


# Protected routes first: their fixed paths win over the delivery URLs' patterns.
router = APIRouter()
router.include_router(api)
router.include_router(public)
