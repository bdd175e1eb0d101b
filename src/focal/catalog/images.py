"""Records of hosted originals: add, read, complete direct uploads, update, delete, list."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from focal.catalog.schema import images
from focal.catalog.store import Store, checked_text
from focal.catalog.times import from_micros, now_micros, to_micros
from focal.catalog.usage import Metric, add_usage, day_number
from focal.errors import ErrorKind, FocalError
from focal.json_input import load_json

MAX_METADATA_BYTES = 1024
MAX_ID_LENGTH = 1024
MAX_PER_PAGE = 10_000
MAX_PAGE = 1_000_000  # v1 pages: their offset stays far inside a 64-bit SQL integer
# Catalog times are microseconds in a signed 64-bit column: a token's time must fit there.
_MICROS_BOUND = 2**63
SORT_ORDERS = ("asc", "desc")
# Characters a URL path may hold unescaped (RFC 3986 pchar and "/"), so an id is its own URL.
_ID_PATTERN = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/-]+")
# Ids whose URLs are fixed paths of the API (/images/v1/stats, /images/v1/variants/<name>,
# /images/v1/keys, /images/v1/<id>/blob), or whose short delivery URL /images/<id>/<variant>
# is one (/images/v1/...): such an image could be stored but never read back.
RESERVED_FIRST_SEGMENTS = ("v1", "variants")
RESERVED_IDS = ("stats", "keys")
RESERVED_LAST_SEGMENT = "blob"


@dataclass(frozen=True)
class ImageRecord:
    id: str
    filename: str | None
    metadata: dict[str, Any]
    require_signed_urls: bool
    uploaded: datetime  # UTC
    draft: bool  # a direct-upload placeholder whose upload has not happened yet
    upload_expires: datetime | None
    format: str | None
    width: int | None
    height: int | None
    size: int | None
    content_hash: str | None
    blob_key: str | None = None  # where the bytes are, or where a draft's upload writes them
    upload_owner: str | None = None  # the process whose upload holds this draft


def new_image_id() -> str:
    return str(uuid.uuid4())


def validate_image_id(image_id: str) -> str:
    """A custom id: 1–1024 URL path characters, without empty, "." or ".." segments."""
    if not 0 < len(image_id) <= MAX_ID_LENGTH:
        raise FocalError(ErrorKind.BAD_REQUEST, f"an image id has 1 to {MAX_ID_LENGTH} characters")
    if not _ID_PATTERN.fullmatch(image_id) or any(
        segment in ("", ".", "..") for segment in image_id.split("/")
    ):
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"image id {image_id!r} is not usable in a URL: use letters, digits and "
            "-._~!$&'()*+,;=:@ with single slashes between non-empty parts",
        )
    _check_not_reserved(image_id)
    return image_id


def _check_not_reserved(image_id: str) -> None:
    segments = image_id.split("/")
    if image_id in RESERVED_IDS or segments[0] in RESERVED_FIRST_SEGMENTS:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"image id {image_id!r} is reserved: ids {' and '.join(map(repr, RESERVED_IDS))}, "
            f"and ids whose first part is {' or '.join(map(repr, RESERVED_FIRST_SEGMENTS))}, "
            "name paths of the API; choose another id",
        )
    if len(segments) > 1 and segments[-1] == RESERVED_LAST_SEGMENT:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"image id {image_id!r} is reserved: an id can't end in '/{RESERVED_LAST_SEGMENT}', "
            f"which is the API path of an image's original; choose another id",
        )


def encode_metadata(metadata: Mapping[str, Any]) -> str:
    """The stored form of an image's metadata: a JSON object of at most 1024 bytes."""
    if not isinstance(metadata, Mapping):
        raise FocalError(ErrorKind.BAD_REQUEST, "metadata must be a JSON object")
    try:
        # Counted as UTF-8, the way the client sent it, not as \u escapes.
        encoded = json.dumps(
            dict(metadata), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        size = len(encoded.encode())
    except (TypeError, ValueError) as error:
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"metadata is not JSON-serializable: {error}"
        ) from None
    if size > MAX_METADATA_BYTES:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES} are allowed",
        )
    return encoded


def _row_values(record: ImageRecord) -> dict[str, Any]:
    validate_image_id(record.id)
    if record.draft and record.upload_expires is None:
        raise ValueError("a draft image needs upload_expires")
    expires = record.upload_expires
    if record.filename is not None:
        checked_text(record.filename, "the filename")
    return {
        "id": record.id,
        "filename": record.filename,
        "metadata_json": encode_metadata(record.metadata),
        "require_signed_urls": record.require_signed_urls,
        "uploaded": to_micros(record.uploaded),
        "draft": record.draft,
        "upload_expires": None if expires is None else to_micros(expires),
        "format": record.format,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "content_hash": record.content_hash,
        "blob_key": record.blob_key,
        "upload_owner": record.upload_owner,
    }


def _record(row: Mapping[Any, Any]) -> ImageRecord:
    expires = row["upload_expires"]
    return ImageRecord(
        id=row["id"],
        filename=row["filename"],
        metadata=json.loads(row["metadata_json"]),
        require_signed_urls=bool(row["require_signed_urls"]),
        uploaded=from_micros(int(row["uploaded"])),
        draft=bool(row["draft"]),
        upload_expires=None if expires is None else from_micros(int(expires)),
        format=row["format"],
        width=row["width"],
        height=row["height"],
        size=None if row["size"] is None else int(row["size"]),
        content_hash=row["content_hash"],
        blob_key=row["blob_key"],
        upload_owner=row["upload_owner"],
    )


def _check_per_page(per_page: int) -> None:
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise FocalError(ErrorKind.BAD_REQUEST, f"per_page must be between 1 and {MAX_PER_PAGE}")


def _continuation_token(sort_order: str, uploaded: int, image_id: str) -> str:
    raw = json.dumps([sort_order, uploaded, image_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_continuation_token(token: str, sort_order: str) -> tuple[int, str]:
    invalid = FocalError(
        ErrorKind.BAD_REQUEST, "continuation_token is not one returned by this listing"
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = load_json(raw, "continuation_token")
    except (binascii.Error, ValueError):
        raise invalid from None
    if not (isinstance(document, list) and len(document) == 3):
        raise invalid
    order, uploaded, image_id = document
    if order != sort_order:
        raise FocalError(ErrorKind.BAD_REQUEST, f"continuation_token belongs to sort_order={order}")
    # What it holds reaches SQL: a time in the column's range, an id the catalog could hold.
    if type(uploaded) is not int or not -_MICROS_BOUND <= uploaded < _MICROS_BOUND:
        raise invalid
    if not isinstance(image_id, str) or not 0 < len(image_id) <= MAX_ID_LENGTH:
        raise invalid
    return uploaded, image_id


class ImageStore(Store):
    def add_image(self, record: ImageRecord) -> ImageRecord:
        values = _row_values(record)
        try:
            with self.engine.begin() as connection:
                # An expired draft that holds no blob gives its id back; one that does is
                # taken over with `take_over_draft`, by a caller that then deletes its blob.
                connection.execute(
                    delete(images).where(
                        images.c.id == record.id,
                        images.c.draft,
                        images.c.upload_expires <= now_micros(),
                        images.c.blob_key.is_(None),
                    )
                )
                connection.execute(insert(images).values(**values))
                if not record.draft:
                    add_usage(connection, Metric.IMAGES_ADDED, day_number(values["uploaded"]))
        except IntegrityError:
            raise FocalError(
                ErrorKind.CONFLICT, f"an image with id {record.id!r} already exists"
            ) from None
        return _record(values)

    def take_over_draft(self, record: ImageRecord, abandoned: ImageRecord) -> bool:
        """Put record in the place of the draft abandoned, in one step; False if that draft
        is no longer there as it was (another caller took it over first)."""
        values = _row_values(record)
        with self.engine.begin() as connection:
            if connection.execute(delete(images).where(*_same_draft(abandoned))).rowcount != 1:
                return False
            connection.execute(insert(images).values(**values))
            if not record.draft:
                add_usage(connection, Metric.IMAGES_ADDED, day_number(values["uploaded"]))
        return True

    def delete_draft(self, abandoned: ImageRecord) -> bool:
        """Remove the draft abandoned if it is still there as it was; True if it was."""
        with self.engine.begin() as connection:
            return connection.execute(delete(images).where(*_same_draft(abandoned))).rowcount == 1

    def unfinished_drafts(self) -> list[ImageRecord]:
        """Drafts that may be abandoned: expired ones, and those an upload holds."""
        condition = or_(images.c.upload_expires <= now_micros(), images.c.upload_owner.is_not(None))
        query = select(images).where(images.c.draft, condition)
        with self.engine.connect() as connection:
            return [_record(row._mapping) for row in connection.execute(query)]

    def note_draft_blob(self, image_id: str, blob_key: str) -> None:
        """Record where a direct upload is about to write, so a crash leaves nothing unknown."""
        claim = update(images).where(
            images.c.id == image_id, images.c.draft, images.c.upload_owner.is_(None)
        )
        with self.engine.begin() as connection:
            connection.execute(claim.values(blob_key=blob_key))

    def get_image(self, image_id: str) -> ImageRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(images).where(images.c.id == image_id)).first()
        return None if row is None else _record(row._mapping)

    def complete_draft(
        self,
        image_id: str,
        *,
        filename: str | None,
        format: str | None,
        width: int | None,
        height: int | None,
        size: int | None,
        content_hash: str | None,
        blob_key: str | None = None,
        owner: str | None = None,
    ) -> ImageRecord:
        """Turn a draft into an image, once: the conditional update is the atomic claim.

        owner is the upload that holds the draft (None for a direct upload's draft): a
        draft taken over by another upload is not completed by the one it was taken from.
        """
        if filename is not None:
            checked_text(filename, "the filename")
        now = now_micros()
        claim = (
            update(images)
            .where(
                images.c.id == image_id,
                images.c.draft,
                images.c.upload_expires > now,
                images.c.upload_owner.is_not_distinct_from(owner),
            )
            .values(
                draft=False,
                upload_expires=None,
                uploaded=now,  # the image counts as uploaded when its bytes arrive
                filename=filename,
                format=format,
                width=width,
                height=height,
                size=size,
                content_hash=content_hash,
                blob_key=blob_key,
                upload_owner=None,
            )
        )
        with self.engine.begin() as connection:
            claimed = connection.execute(claim).rowcount == 1
            if claimed:
                add_usage(connection, Metric.IMAGES_ADDED, day_number(now))
            row = connection.execute(select(images).where(images.c.id == image_id)).first()
        if claimed and row is not None:
            return _record(row._mapping)
        if row is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no upload is waiting for image {image_id!r}")
        if not row.draft:
            raise FocalError(
                ErrorKind.CONFLICT, f"the upload URL of image {image_id!r} was already used"
            )
        if row.upload_owner != owner:
            raise FocalError(
                ErrorKind.CONFLICT, f"another upload of image {image_id!r} took its place"
            )
        expired = from_micros(int(row.upload_expires)).isoformat()
        raise FocalError(
            ErrorKind.ACCESS_DENIED,
            f"the upload URL of image {image_id!r} expired at {expired}; request a new one",
        )

    def update_image(
        self,
        image_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        require_signed_urls: bool | None = None,
    ) -> ImageRecord | None:
        changes: dict[str, Any] = {}
        if metadata is not None:
            changes["metadata_json"] = encode_metadata(metadata)
        if require_signed_urls is not None:
            changes["require_signed_urls"] = require_signed_urls
        with self.engine.begin() as connection:
            if changes:
                connection.execute(update(images).where(images.c.id == image_id).values(**changes))
            row = connection.execute(select(images).where(images.c.id == image_id)).first()
        return None if row is None else _record(row._mapping)

    def delete_image(self, image_id: str) -> bool:
        gone = delete(images).where(images.c.id == image_id).returning(images.c.draft)
        with self.engine.begin() as connection:
            deleted = connection.execute(gone).all()
            if any(not row.draft for row in deleted):  # a draft was never a stored image
                add_usage(connection, Metric.IMAGES_DELETED, day_number(now_micros()))
        return bool(deleted)

    def list_images_v1(self, page: int, per_page: int) -> list[ImageRecord]:
        """Newest first, drafts left out; pages count from 1."""
        if not 1 <= page <= MAX_PAGE:
            raise FocalError(ErrorKind.BAD_REQUEST, f"page counts from 1 to {MAX_PAGE:,}")
        _check_per_page(per_page)
        query = (
            select(images)
            .where(~images.c.draft)
            .order_by(images.c.uploaded.desc(), images.c.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        with self.engine.connect() as connection:
            return [_record(row._mapping) for row in connection.execute(query)]

    def list_images_v2(
        self, *, per_page: int, continuation_token: str | None, sort_order: str
    ) -> tuple[list[ImageRecord], str | None]:
        """One page by (uploaded, id), and the token of the next page (None after the last).

        The token names the last record seen, not an offset, so images added or deleted
        between pages neither repeat nor skip the others.
        """
        if sort_order not in SORT_ORDERS:
            raise FocalError(ErrorKind.BAD_REQUEST, "sort_order is asc or desc")
        _check_per_page(per_page)
        descending = sort_order == "desc"
        query = select(images).where(~images.c.draft)
        if continuation_token:
            uploaded, image_id = _read_continuation_token(continuation_token, sort_order)
            query = query.where(_after(uploaded, image_id, descending=descending))
        keys = (images.c.uploaded, images.c.id)
        query = query.order_by(*(key.desc() if descending else key.asc() for key in keys))
        with self.engine.connect() as connection:
            rows = [row._mapping for row in connection.execute(query.limit(per_page + 1))]
        page = [_record(row) for row in rows[:per_page]]
        if len(rows) <= per_page:
            return page, None
        last = rows[per_page - 1]
        return page, _continuation_token(sort_order, int(last["uploaded"]), last["id"])

    def stats(self) -> tuple[int, int]:
        """(images, bytes) of uploaded images; drafts hold no bytes yet."""
        query = select(func.count(), func.coalesce(func.sum(images.c.size), 0)).where(
            ~images.c.draft
        )
        with self.engine.connect() as connection:
            count, total = connection.execute(query).one()
        return int(count), int(total)


def _same_draft(draft: ImageRecord) -> tuple[ColumnElement[bool], ...]:
    """The row of draft as it was read: same id, still a draft, same holder, same start."""
    return (
        images.c.id == draft.id,
        images.c.draft,
        images.c.upload_owner.is_not_distinct_from(draft.upload_owner),
        images.c.uploaded == to_micros(draft.uploaded),
    )


def _after(uploaded: int, image_id: str, *, descending: bool) -> ColumnElement[bool]:
    # Spelled out rather than as a row-value comparison, which not every backend orders alike.
    if descending:
        return or_(
            images.c.uploaded < uploaded,
            and_(images.c.uploaded == uploaded, images.c.id < image_id),
        )
    return or_(
        images.c.uploaded > uploaded,
        and_(images.c.uploaded == uploaded, images.c.id > image_id),
    )
