"""What the HTTP APIs take and answer, as pydantic models, for validation and for OpenAPI.

Request bodies are read by the handlers themselves, after the token or signature is checked
(FastAPI would read a declared body before any dependency runs): their models are published
through `json_body` / `form_body` (OpenAPI's `requestBody`) and `REQUEST_MODELS` (added to
the schema's components by server/openapi.py). Answers are built as JSON by the handlers;
their models (`response_model`) are what /openapi.json promises, and tests/server/
test_openapi.py holds real answers to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from focal.pipeline.encode import MEDIA_TYPES
from focal.pipeline.flat_chain import CHAIN_PART, input_part
from focal.pipeline.operations import MAX_INPUTS

T = TypeVar("T")

# A form part that is a file; documented only (the handlers read the form themselves).
FilePart = Annotated[bytes | None, WithJsonSchema({"type": "string", "format": "binary"})]


class Answer(BaseModel):
    """Part of an answer: the schema names every key the server sends."""

    model_config = ConfigDict(extra="forbid")


# --- the hosted envelope -----------------------------------------------------------------


class ApiMessage(Answer):
    code: int = Field(description="Focal's error code (errors.py), also in Cf-Resized")
    message: str


class Envelope(Answer, Generic[T]):
    """The hosted API's answer: `result` when `success`, else `errors`."""

    result: T
    success: Literal[True]
    errors: list[ApiMessage]
    messages: list[ApiMessage]


class ErrorEnvelope(Answer):
    """A refused hosted API request: the reason is in `errors`."""

    result: None
    success: Literal[False]
    errors: list[ApiMessage]
    messages: list[ApiMessage]


class Empty(Answer):
    """Nothing to say but success."""


# --- hosted images -----------------------------------------------------------------------


class HostedImage(Answer):
    """An image as the hosted API describes it; a draft has no format or size yet."""

    id: str
    filename: str | None
    metadata: dict[str, Any]
    uploaded: datetime
    requireSignedURLs: bool
    variants: list[str] = Field(description="a delivery URL per variant")
    draft: Literal[True] | None = Field(None, description="present while a direct upload waits")
    format: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None


class ImageList(Answer):
    images: list[HostedImage]


class ImageListV2(Answer):
    images: list[HostedImage]
    continuation_token: str | None = Field(description="the next page's token, if any")


class Current(Answer):
    current: int


class ImageStats(Answer):
    count: Current
    bytes: Current


class DirectUploadURL(Answer):
    id: str
    uploadURL: str = Field(description="a one-time URL to POST the file to, no token needed")


class VariantOptionsShown(Answer):
    """fit and metadata always; then every option the variant sets, by its URL name."""

    model_config = ConfigDict(extra="allow")

    fit: str
    metadata: str
    width: int | str | None = None
    height: int | None = None
    browser_ttl: int | None = Field(None, description="seconds; absent: FOCAL_BROWSER_TTL")


class Variant(Answer):
    id: str
    options: VariantOptionsShown
    neverRequireSignedURLs: bool


class OneVariant(Answer):
    variant: Variant


class VariantList(Answer):
    variants: dict[str, Variant] = Field(description="by variant name")


class SigningKey(Answer):
    name: str
    value: str


class SigningKeys(Answer):
    keys: list[SigningKey]


class FaceBox(Answer):
    x: float = Field(description="left edge, in pixels of the original as displayed")
    y: float = Field(description="top edge")
    width: float
    height: float
    score: float = Field(description="the detector's confidence, 0 to 1")


class ImageFaces(Answer):
    """The faces gravity=face crops around, in the original's displayed pixels."""

    width: int | None = Field(description="the original's width, as displayed")
    height: int | None
    faces: list[FaceBox]
    detection: str = Field(description="detected, memory, catalog or unavailable")
    reason: str | None = Field(None, description="why detection was unavailable")


# --- hosted request bodies ---------------------------------------------------------------


class StrictBody(BaseModel):
    """A JSON body: every field typed strictly (true is no number, "1" no boolean)."""

    model_config = ConfigDict(strict=True, extra="forbid")


# A value of a URL option in JSON: checked by focal.options, as in a URL.
OptionValue = str | int | float | bool | dict[str, Any] | list[Any] | None


class VariantOptions(StrictBody):
    """Any URL option (format, gravity, quality, trim, ...; names or aliases, `_` or `-`),
    and `browser_ttl`. The shape only: the values are checked by focal.options, as in a
    URL, and an unknown option is refused with its name."""

    model_config = ConfigDict(strict=True, extra="allow")

    fit: str = "scale-down"
    metadata: str = "none"
    width: int | None = None
    height: int | None = None
    browser_ttl: int | None = Field(
        default=None,
        description="seconds a browser may keep the variant; absent: FOCAL_BROWSER_TTL",
    )
    format: str | None = Field(default=None, description="absent: negotiated from Accept (auto)")
    gravity: OptionValue = None
    quality: int | str | None = None


class VariantBody(StrictBody):
    """A variant; `id` is its name (on PATCH the path names it)."""

    id: str | None = None
    options: VariantOptions = VariantOptions()
    neverRequireSignedURLs: bool = False


class HostedConfig(Answer):
    flexible_variants: bool = Field(description="any option string in place of a variant name")


class HostedConfigChanges(StrictBody):
    """The settings to change; those absent stay as they are."""

    flexible_variants: bool | None = None


class DirectUploadJson(StrictBody):
    """A direct upload's draft, as JSON (the form's fields, metadata as an object)."""

    id: str | None = Field(default=None, description="the image's id; made when absent")
    metadata: dict[str, Any] | None = None
    requireSignedURLs: bool | None = None
    expiry: int | str | None = Field(
        default=None,
        description="seconds, or an RFC 3339 date-time; 2 minutes to 6 hours ahead",
    )


class ImageChanges(StrictBody):
    metadata: dict[str, Any] | None = None
    requireSignedURLs: bool | None = None


class UploadForm(BaseModel):
    """An upload: a `file` part or a `url` to fetch the image from, not both."""

    file: FilePart = None
    url: str | None = None
    id: str | None = Field(None, description="the image's id; made when absent")
    metadata: str | None = Field(None, description="a JSON object, as text")
    requireSignedURLs: bool | None = None


class DirectUploadForm(BaseModel):
    """A draft image and a one-time upload URL for it."""

    id: str | None = Field(None, description="the image's id; made when absent")
    metadata: str | None = Field(None, description="a JSON object, as text")
    requireSignedURLs: bool | None = None
    expiry: int | str | None = Field(
        None,
        description="seconds the upload URL stays valid, or an RFC 3339 date-time; "
        "2 minutes to 6 hours ahead",
    )


class DirectUploadFile(BaseModel):
    file: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


# --- usage -------------------------------------------------------------------------------


class UsageDay(Answer):
    date: str = Field(description="YYYY-MM-DD, UTC")
    unique_transformations: int
    deliveries: int
    images_stored: int
    stream_minutes_recorded: float = Field(description="live-stream video recorded")
    stream_minutes_delivered: float = Field(description="live-stream video served")
    cost: float


class UsageTotal(Answer):
    unique_transformations: int
    deliveries: int
    images_stored: int
    stream_minutes_recorded: float = Field(description="live-stream video recorded")
    stream_minutes_delivered: float = Field(description="live-stream video served")
    cost: float


class UsageWindow(Answer):
    days: int
    unique_transformations: int
    quota: int | None


class HostedUsage(Answer):
    images_stored: int
    images_quota: int | None
    month: str = Field(description="YYYY-MM, UTC")
    deliveries_this_month: int
    deliveries_quota: int | None


class CallsAppUsage(Answer):
    appId: str
    egress_bytes: int
    egress_gb: float


class CallsUsage(Answer):
    price_per_gb: float
    free_gb_per_month: float
    egress_bytes: int = Field(description="bytes the SFU sent to clients (RTP, RTCP, data)")
    egress_gb: float
    billable_gb: float = Field(description="GB past each calendar month's free allowance")
    cost: float
    apps: list[CallsAppUsage]


class UsageReport(Answer):
    first: str = Field(alias="from", description="YYYY-MM-DD, UTC")
    last: str = Field(alias="to", description="YYYY-MM-DD, UTC, included")
    price_per_1000_transformations: float
    days: list[UsageDay]
    total: UsageTotal
    window: UsageWindow
    hosted: HostedUsage
    calls: CallsUsage


# --- the Images API ----------------------------------------------------------------------


class InputInfo(Answer):
    format: str
    file_size: int
    width: int
    height: int


def _input_parts(count: int) -> dict[str, Any]:
    binary = {"type": "string", "format": "binary"}
    return {input_part(index): binary for index in range(count)}


class TransformForm(BaseModel):
    """The input images as parts input-0, input-1, ..., and the chain as a JSON part."""

    model_config = ConfigDict(
        json_schema_extra={
            "properties": {
                CHAIN_PART: {"type": "string", "description": "the flattened chain, as JSON"},
                **_input_parts(MAX_INPUTS),
            },
            "required": [CHAIN_PART, input_part(0)],
        }
    )


class InfoForm(BaseModel):
    """The one input image, as part input-0."""

    model_config = ConfigDict(
        json_schema_extra={"properties": _input_parts(1), "required": [input_part(0)]}
    )


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    VariantBody,
    HostedConfigChanges,
    DirectUploadJson,
    ImageChanges,
    UploadForm,
    DirectUploadForm,
    DirectUploadFile,
    TransformForm,
    InfoForm,
)


# --- OpenAPI pieces for the routes -------------------------------------------------------


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a JSON body that the handler reads itself."""
    content = {"application/json": {"schema": _ref(model)}}
    return {"requestBody": {"required": True, "content": content}}


def form_body(
    model: type[BaseModel], *, required: bool = True, urlencoded: bool = False
) -> dict[str, Any]:
    """`openapi_extra` for a form that the handler reads itself (after its checks)."""
    content = {"multipart/form-data": {"schema": _ref(model)}}
    if urlencoded:
        content["application/x-www-form-urlencoded"] = {"schema": _ref(model)}
    return {"requestBody": {"required": required, "content": content}}


ENVELOPE_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "refused: the reason is in errors"},
    "5XX": {"model": ErrorEnvelope, "description": "failed, or busy (503, Retry-After)"},
}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
TEXT_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"description": "refused: the reason as text", "content": _TEXT},
    "5XX": {"description": "failed, or busy (503, Retry-After)", "content": _TEXT},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGE_MEDIA_TYPES = tuple(dict.fromkeys(MEDIA_TYPES.values()))
DELIVERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the image (format=json: its description)",
        "content": {
            **{media_type: _BINARY for media_type in IMAGE_MEDIA_TYPES},
            "application/json": {"schema": {"type": "object"}},
        },
    },
    304: {"description": "not modified since the validators sent"},
    302: {"description": "onerror=redirect: the original's URL"},
    **TEXT_ERRORS,
}
IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the image",
        "content": {media_type: _BINARY for media_type in IMAGE_MEDIA_TYPES},
    }
}
ORIGINAL_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "the original, byte for byte", "content": {"image/*": _BINARY}}
}
