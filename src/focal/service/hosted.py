"""Hosted images: originals stored once in the blob store, described in the catalog, and
delivered as named or flexible variants through the same pipeline as `/cdn-cgi/image/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from focal.catalog import (
    HostedCatalog,
    ImageRecord,
    VariantRecord,
    new_image_id,
    validate_image_id,
)
from focal.config import Settings
from focal.errors import ErrorKind, FocalError, OptionError
from focal.options import Options, options_from_mapping, parse_options
from focal.pipeline import SourceInfo, check_decodes
from focal.service.delivery import Delivery, DeliveryService
from focal.service.hints import ClientHints
from focal.service.metering import Meter
from focal.service.transform import limits_from
from focal.signing import signature_matches, signed_url
from focal.sources.hosted import HostedSource
from focal.sources.remote import RemoteFetcher
from focal.storage import BlobStore, LocalBlobStore
from focal.storage.owner import is_gone, this_process

log = logging.getLogger(__name__)

RESERVATION = timedelta(minutes=10)  # an upload in flight holds its id this long at most
TEMPORARY_FILE_AGE = 3600  # seconds: a temporary file of a writer that can't be judged
DIRECT_UPLOAD_RANGE = (120, 21_600)  # seconds: 2 minutes to 6 hours
DIRECT_UPLOAD_DEFAULT = 1_800


def blob_key(image_id: str, content_hash: str) -> str:
    """`images/<sha256 of the id>/<content hash>`: every id maps to a valid key of one fixed
    length, so the keys of one image are never a prefix of another's; and blobs are named by
    content, so a failed upload can only ever remove its own bytes."""
    folder = hashlib.sha256(image_id.encode()).hexdigest()
    return f"images/{folder}/{content_hash}"


def stored_key(record: ImageRecord) -> str | None:
    """Where the record's bytes are (or are being written), if it has any."""
    if record.blob_key is not None:
        return record.blob_key
    if record.content_hash is not None:  # a record written before keys were stored
        return blob_key(record.id, record.content_hash)
    return None


VARIANT_OPTIONS = ("fit", "width", "height", "metadata")  # what a named variant may set


def checked_variant_options(values: Mapping[str, Any], what: str = "the variant") -> Options:
    """A named variant's option values, checked one by one by the URL form's parser, so a
    variant is valid exactly when its options would be in a URL; a problem names its field."""
    for key in VARIANT_OPTIONS:
        try:
            options_from_mapping({key: values.get(key)})
        except OptionError as error:
            raise FocalError(
                ErrorKind.BAD_REQUEST, f"{what} has a bad 'options.{key}': {error.message}"
            ) from None
    return options_from_mapping({key: values.get(key) for key in VARIANT_OPTIONS})


def variant_options(variant: VariantRecord) -> Options:
    """The options a named variant stands for."""
    return checked_variant_options(
        {
            "fit": variant.fit,
            "width": variant.width,
            "height": variant.height,
            "metadata": variant.metadata,
        }
    )


def _now() -> datetime:
    return datetime.now(UTC)


def draft_record(
    image_id: str,
    metadata: dict[str, Any],
    require_signed_urls: bool,
    expires: datetime,
    filename: str | None = None,
) -> ImageRecord:
    """An image whose bytes have not arrived yet: it holds its id until `expires`."""
    return ImageRecord(
        id=image_id,
        filename=filename,
        metadata=metadata,
        require_signed_urls=require_signed_urls,
        uploaded=_now(),
        draft=True,
        upload_expires=expires,
        format=None,
        width=None,
        height=None,
        size=None,
        content_hash=None,
    )


class HostedImages:
    def __init__(
        self,
        settings: Settings,
        catalog: HostedCatalog,
        blobs: BlobStore,
        fetcher: RemoteFetcher,
        delivery: DeliveryService,
        meter: Meter,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.blobs = blobs
        self.fetcher = fetcher  # uploads by URL, from the allowed origins
        self.delivery = delivery
        self.meter = meter  # counts deliveries
        # The server's limits, but for the size of an upload: hosted originals are smaller.
        self.limits = limits_from(settings, max_bytes=settings.hosted_max_bytes)

    @property
    def max_upload_bytes(self) -> int:
        """FOCAL_HOSTED_MAX_BYTES: the largest original an upload may store."""
        return self.limits.max_bytes

    # --- uploads -------------------------------------------------------------------------

    def _checked(self, data: bytes) -> SourceInfo:
        """An upload judged by its content: an image, within the hosted limits."""
        try:
            return check_decodes(data, self.limits)  # whole: a truncated upload is refused
        except FocalError as error:
            if error.kind is ErrorKind.IMAGE_TOO_LARGE:
                raise FocalError(ErrorKind.SOURCE_TOO_LARGE, error.message) from None
            raise

    async def fetch(self, url: str) -> bytes:
        fetched = await self.fetcher.fetch(url)
        if len(fetched.data) > self.limits.max_bytes:
            raise FocalError(
                ErrorKind.SOURCE_TOO_LARGE,
                f"the image at {url} is {len(fetched.data):,} bytes; "
                f"hosted images may be at most {self.limits.max_bytes:,} bytes",
            )
        return fetched.data

    async def upload(
        self,
        data: bytes,
        *,
        filename: str | None,
        image_id: str | None,
        metadata: dict[str, Any],
        require_signed_urls: bool,
    ) -> ImageRecord:
        """Store an original byte for byte and describe it; all of it or nothing."""
        info = await asyncio.to_thread(self._checked, data)
        image_id = validate_image_id(image_id) if image_id else new_image_id()
        content_hash = hashlib.sha256(data).hexdigest()
        key = blob_key(image_id, content_hash)
        owner = this_process()
        # The id is reserved first (a draft that expires), so a second upload with the same
        # id fails before it touches the blob of the first. The reservation names its owner
        # and the key it writes, so a crash leaves nothing that can't be found and undone.
        reservation = replace(
            draft_record(image_id, metadata, require_signed_urls, _now() + RESERVATION, filename),
            blob_key=key,
            upload_owner=owner,
        )
        await asyncio.to_thread(self._reserve, reservation)
        return await self._store(image_id, data, info, filename, content_hash, owner=owner)

    def _reserve(self, reservation: ImageRecord) -> ImageRecord:
        """Add the draft; in the place of an abandoned one if that is what holds the id."""
        try:
            return self.catalog.add_image(reservation)
        except FocalError as error:
            if error.kind is not ErrorKind.CONFLICT:
                raise
            holder = self.catalog.get_image(reservation.id)
            if holder is None or not self._abandoned(holder):
                raise
            if not self.catalog.take_over_draft(reservation, holder):
                raise
        if holder.blob_key is not None and holder.blob_key != reservation.blob_key:
            self.blobs.delete(holder.blob_key)  # the half-done write of the one taken over
        return reservation

    @staticmethod
    def _abandoned(record: ImageRecord) -> bool:
        """A draft nobody will complete: expired, or held by an upload whose process is dead."""
        if not record.draft:
            return False
        if record.upload_expires is not None and record.upload_expires <= _now():
            return True
        return record.upload_owner is not None and is_gone(record.upload_owner)

    async def _store(
        self,
        image_id: str,
        data: bytes,
        info: SourceInfo,
        filename: str | None,
        content_hash: str,
        *,
        owner: str | None,
    ) -> ImageRecord:
        """Write the blob, then turn the draft into an image; undo our own part on failure.

        owner is the upload whose reservation this is; None for a direct upload's draft,
        which stays for another try when this one fails.
        """
        key = blob_key(image_id, content_hash)
        try:
            await asyncio.to_thread(self.blobs.put, key, data)
            return await asyncio.to_thread(
                self.catalog.complete_draft,
                image_id,
                filename=filename,
                format=info.format,
                width=info.width,
                height=info.height,
                size=len(data),
                content_hash=content_hash,
                blob_key=key,
                owner=owner,
            )
        except BaseException:
            await asyncio.to_thread(self._undo, image_id, key, owner)
            raise

    def _undo(self, image_id: str, key: str, owner: str | None) -> None:
        current = self.catalog.get_image(image_id)
        if current is None or current.draft or current.blob_key != key:
            self.blobs.delete(key)  # not the blob of an image that did get stored
        if owner is not None and current is not None and current.upload_owner == owner:
            self.catalog.delete_draft(current)  # the id this upload reserved

    def _forget(self, record: ImageRecord) -> None:
        # The blob goes first: a crash in between leaves a record to delete again, not a
        # blob that no record names.
        key = stored_key(record)
        if key is not None:
            self.blobs.delete(key)
        self.catalog.delete_image(record.id)

    def sweep(self) -> int:
        """Remove uploads that never finished (a crash mid-upload): records and blobs.

        One record that can't be swept is logged and left; it never stops the others, nor
        the server's start.
        """
        swept = 0
        for draft in self.catalog.unfinished_drafts():
            try:
                swept += self._sweep_draft(draft)
            except Exception:
                log.exception("could not sweep the unfinished upload of image %r", draft.id)
        if isinstance(self.blobs, LocalBlobStore):
            try:  # writes a crash cut short: at once if their writer is known dead
                self.blobs.sweep_temporary(older_than_seconds=TEMPORARY_FILE_AGE)
            except OSError:
                log.exception("could not sweep the temporary files of the blob store")
        return swept

    def _sweep_draft(self, draft: ImageRecord) -> int:
        if not self._abandoned(draft):
            return 0
        if not self.catalog.delete_draft(draft):
            return 0  # completed or taken over meanwhile
        if draft.blob_key is not None:
            self.blobs.delete(draft.blob_key)
        return 1

    async def create_direct_upload(
        self,
        *,
        image_id: str | None,
        metadata: dict[str, Any],
        require_signed_urls: bool,
        expires_in: int | None,
        base_url: str,
    ) -> tuple[ImageRecord, str]:
        """A draft and a one-time URL that uploads its original without a token."""
        seconds = DIRECT_UPLOAD_DEFAULT if expires_in is None else expires_in
        low, high = DIRECT_UPLOAD_RANGE
        if not low <= seconds <= high:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                f"expiry must be between {low} seconds and {high} seconds (6 hours)",
            )
        image_id = validate_image_id(image_id) if image_id else new_image_id()
        expires = _now() + timedelta(seconds=seconds)
        draft = draft_record(image_id, metadata, require_signed_urls, expires)
        record = await asyncio.to_thread(self._reserve, draft)
        path = f"/upload/{image_id}"
        stamp = int(expires.timestamp())
        key = (await asyncio.to_thread(self.catalog.signing_keys))[0][1]  # the newest
        url = base_url.rstrip("/") + signed_url(key, path, stamp)
        return record, url

    async def direct_upload(
        self, image_id: str, path: str, query: Mapping[str, str], data: bytes, filename: str | None
    ) -> ImageRecord:
        await self.verify_signature(path, query, what="upload URL")
        record = await asyncio.to_thread(self.catalog.get_image, image_id)
        if record is None or not record.draft:
            raise FocalError(
                ErrorKind.NOT_FOUND, "this upload URL was used already or never existed"
            )
        info = await asyncio.to_thread(self._checked, data)
        content_hash = hashlib.sha256(data).hexdigest()
        # Known before it is written, so the sweep of this draft finds it after a crash.
        key = blob_key(image_id, content_hash)
        await asyncio.to_thread(self.catalog.note_draft_blob, image_id, key)
        return await self._store(image_id, data, info, filename, content_hash, owner=None)

    # --- reading and changing ------------------------------------------------------------

    async def get(self, image_id: str) -> ImageRecord:
        record = await asyncio.to_thread(self.catalog.get_image, image_id)
        if record is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no image with id {image_id!r}")
        return record

    async def original(self, image_id: str) -> tuple[ImageRecord, bytes]:
        record = await self.get(image_id)
        return record, await self._read(record)

    async def _read(self, record: ImageRecord) -> bytes:
        return await self._source(record).read()

    def _source(self, record: ImageRecord) -> HostedSource:
        if record.draft or record.content_hash is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"image {record.id!r} has not been uploaded yet")
        key = stored_key(record) or blob_key(record.id, record.content_hash)
        return HostedSource(record.id, record.content_hash, key, self.blobs)

    async def delete(self, image_id: str) -> None:
        record = await self.get(image_id)
        await asyncio.to_thread(self._forget, record)

    # --- delivery ------------------------------------------------------------------------

    async def verify_signature(self, path: str, query: Mapping[str, str], what: str) -> None:
        expires_text, sig = query.get("exp"), query.get("sig")
        if not expires_text or not sig:
            raise FocalError(
                ErrorKind.ACCESS_DENIED,
                f"this {what} needs a signature: add ?exp=<unix time>&sig=<hex HMAC-SHA256 of "
                "the path and ?exp=...> made with a signing key",
            )
        try:
            expires = int(expires_text)
        except ValueError:
            raise FocalError(
                ErrorKind.ACCESS_DENIED, "exp must be a unix time in seconds"
            ) from None
        if expires < time.time():
            raise FocalError(ErrorKind.ACCESS_DENIED, f"this {what} expired; ask for a new one")
        keys = await asyncio.to_thread(self.catalog.signing_keys)
        if not signature_matches((secret for _, secret in keys), path, expires, sig):
            raise FocalError(ErrorKind.ACCESS_DENIED, f"the signature of this {what} is wrong")

    async def _options(self, record: ImageRecord, name: str) -> tuple[Options, bool]:
        """Options of a variant name or a flexible option string; and if signing applies."""
        variant = await asyncio.to_thread(self.catalog.get_variant, name)
        if variant is not None:
            signed = record.require_signed_urls and not variant.never_require_signed_urls
            return variant_options(variant), signed
        if "=" not in name:
            raise FocalError(ErrorKind.NOT_FOUND, f"no variant named {name!r}")
        if not self.settings.flexible_variants:
            raise FocalError(
                ErrorKind.ACCESS_DENIED,
                "flexible variants are off: use a named variant, or set "
                "FOCAL_FLEXIBLE_VARIANTS=true",
            )
        if record.require_signed_urls:
            raise FocalError(
                ErrorKind.ACCESS_DENIED,
                "flexible variants are not allowed for images that require signed URLs: "
                "use a named variant",
            )
        return parse_options(name), False

    async def deliver(
        self,
        image_id: str,
        variant: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> Delivery:
        record = await self.get(image_id)
        source = self._source(record)  # a draft has no original to deliver
        options, signed = await self._options(record, variant)
        if signed:
            await self.verify_signature(path, query, what="image")
        hints = ClientHints.from_headers(headers)
        ttl = self.settings.browser_ttl
        visibility = "private" if record.require_signed_urls else "public"
        cache_control = f"{visibility}, max-age={ttl}, stale-while-revalidate=7200"
        delivered = await self.delivery.deliver_resolved(
            options, hints, source, headers, cache_control
        )
        self.meter.note_delivery()
        return delivered


def describe(record: ImageRecord, variant_urls: list[str]) -> dict[str, Any]:
    """The hosted product's JSON shape of an image."""
    described: dict[str, Any] = {
        "id": record.id,
        "filename": record.filename,
        "metadata": record.metadata,
        "uploaded": record.uploaded.isoformat().replace("+00:00", "Z"),
        "requireSignedURLs": record.require_signed_urls,
        "variants": variant_urls,
    }
    if record.draft:
        described["draft"] = True
    else:
        described.update(
            format=record.format, width=record.width, height=record.height, size=record.size
        )
    return described


__all__ = ["HostedImages", "checked_variant_options", "describe", "variant_options"]
