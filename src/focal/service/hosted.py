"""Hosted images: originals stored once in the blob store, described in the catalog, and
delivered as named or flexible variants through the same pipeline as `/cdn-cgi/image/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
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
from focal.options import (
    Options,
    canonical,
    canonical_items,
    options_from_mapping,
    parse_options,
)
from focal.pipeline import SourceInfo, check_decodes
from focal.service.delivery import Delivery, DeliveryService
from focal.service.early_faces import EarlyFaces
from focal.service.hints import ClientHints
from focal.service.metering import Meter
from focal.service.transform import limits_from
from focal.signing import signed_url, verified_expiry
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


BROWSER_TTL_KEYS = ("browser_ttl", "browser-ttl")  # a variant's own: no URL option
MAX_BROWSER_TTL = 31_536_000  # seconds: a year


def _bad_variant(what: str, key: str, message: str) -> FocalError:
    return FocalError(ErrorKind.BAD_REQUEST, f"{what} has a bad 'options.{key}': {message}")


def checked_variant_options(values: Mapping[str, Any], what: str = "the variant") -> Options:
    """A named variant's options: any URL option (names or aliases, `_` or `-`), parsed by
    the URL form's parser, so a variant is valid exactly when its options would be in a URL.
    Each is first parsed alone, so a problem names its field; `browser_ttl` is left out
    (see `checked_browser_ttl`)."""
    given = {key: value for key, value in values.items() if key not in BROWSER_TTL_KEYS}
    for key, value in given.items():
        try:
            options_from_mapping({key: value})
        except OptionError as error:
            raise _bad_variant(what, key, error.message) from None
    try:
        return options_from_mapping(given)
    except OptionError as error:  # fields that conflict, e.g. `width` and `w`
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"{what} has bad options: {error.message}"
        ) from None


def checked_browser_ttl(values: Mapping[str, Any], what: str = "the variant") -> int | None:
    """The seconds a browser may keep this variant, if the variant says."""
    given = [(key, values[key]) for key in BROWSER_TTL_KEYS if values.get(key) is not None]
    if not given:
        return None
    key, value = given[0]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BROWSER_TTL:
        raise _bad_variant(what, key, f"a number of seconds from 0 to {MAX_BROWSER_TTL:,}")
    return value


def variant_record(
    name: str, values: Mapping[str, Any], never_require_signed_urls: bool
) -> VariantRecord:
    """A variant as the catalog keeps it: its options as their canonical option string."""
    return VariantRecord(
        name=name,
        options=canonical(checked_variant_options(values)),
        never_require_signed_urls=never_require_signed_urls,
        browser_ttl=checked_browser_ttl(values),
    )


def variant_options(variant: VariantRecord) -> Options:
    """The options a named variant stands for."""
    return parse_options(variant.options) if variant.options else options_from_mapping({})


def _shown_value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def shown_variant_options(variant: VariantRecord) -> dict[str, Any]:
    """A variant's options as the API shows them: fit and metadata always, then every
    option it sets, by its URL name."""
    options = variant_options(variant)
    shown: dict[str, Any] = {"fit": options.fit.value, "metadata": options.metadata}
    shown.update((name, _shown_value(text)) for name, text in canonical_items(options))
    if variant.browser_ttl is not None:
        shown["browser_ttl"] = variant.browser_ttl
    return shown


def hosted_format(options: Options) -> Options:
    """Hosted delivery negotiates the format as the hosted product does (`format=auto`),
    unless the variant or option string pins one."""
    return options if options.format is not None else replace(options, format="auto")


def expiry_seconds(expiry: int | str | None, now: datetime) -> int | None:
    """A direct upload's `expiry`: seconds, or an RFC 3339 date-time (the product's form)."""
    if expiry is None or expiry == "":
        return None
    if isinstance(expiry, int) and not isinstance(expiry, bool):
        return expiry
    text = str(expiry).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        ahead = None if moment.tzinfo is None else (moment - now).total_seconds()
    except (ValueError, OverflowError):  # not a date-time; or one at the calendar's ends
        ahead = None
    if ahead is None:
        raise FocalError(
            ErrorKind.BAD_REQUEST,
            f"expiry {text[:64]!r}: give seconds, or an RFC 3339 date-time with its offset, "
            "e.g. 2026-12-01T12:00:00Z",
        )
    return round(ahead)


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
        early_faces: EarlyFaces | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.blobs = blobs
        self.fetcher = fetcher  # uploads by URL, from the allowed origins
        self.delivery = delivery
        self.meter = meter  # counts deliveries
        self.early_faces = early_faces  # finds an upload's faces before its first delivery
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
        image_id = self._new_id(image_id, require_signed_urls)
        await self._check_room()
        info = await asyncio.to_thread(self._checked, data)
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

    @staticmethod
    def _new_id(image_id: str | None, require_signed_urls: bool) -> str:
        """The id an upload asks for, or a new one. As the hosted product, a custom id is a
        public path: it can't be private (signed URLs only)."""
        if not image_id:
            return new_image_id()
        if require_signed_urls:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                "an image with a custom id can't require signed URLs: leave out the id "
                "(a random one is made) or requireSignedURLs",
            )
        return validate_image_id(image_id)

    async def _check_room(self) -> None:
        """Refuse a new image when the hosted images stored fill their quota."""
        if self.meter.hosted_quotas.images > 0:
            stored, _ = await asyncio.to_thread(self.catalog.stats)
            self.meter.check_storage(stored)

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
            record = await asyncio.to_thread(
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
        if self.early_faces is not None:  # never waited for: the answer goes out now
            source = self._source(record)
            self.early_faces.queue(source.name, content_hash, source.read)
        return record

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
        expiry: int | str | None,
        base_url: str,
    ) -> tuple[ImageRecord, str]:
        """A draft and a one-time URL that uploads its original without a token.

        `expiry`: seconds from now, or an RFC 3339 date-time; 2 minutes to 6 hours ahead.
        """
        now = _now()
        given = expiry_seconds(expiry, now)
        seconds = DIRECT_UPLOAD_DEFAULT if given is None else given
        low, high = DIRECT_UPLOAD_RANGE
        if not low <= seconds <= high:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                f"expiry must be between {low} seconds (2 minutes) and {high} seconds "
                "(6 hours) from now",
            )
        image_id = self._new_id(image_id, require_signed_urls)
        await self._check_room()
        expires = now + timedelta(seconds=seconds)
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
        await self._check_room()
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
        def secrets() -> list[str]:
            return [secret for _, secret in self.catalog.signing_keys()]

        await asyncio.to_thread(verified_expiry, path, query, secrets, what)

    # --- settings of the hosted API (PATCH /images/v1/config) -----------------------------

    async def config(self) -> dict[str, Any]:
        """The hosted API's settings: the catalog's where changed, else the server's."""
        changed = await asyncio.to_thread(self.catalog.hosted_settings)
        return {
            "flexible_variants": bool(
                changed.get("flexible_variants", self.settings.flexible_variants)
            )
        }

    async def change_config(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        given = {name: value for name, value in changes.items() if value is not None}
        if given:
            await asyncio.to_thread(self.catalog.change_hosted_settings, given)
        return await self.config()

    async def _options(self, record: ImageRecord, name: str) -> tuple[Options, bool, int | None]:
        """Options of a variant name or a flexible option string; if signing applies; and
        the variant's browser TTL, if it has one."""
        variant = await asyncio.to_thread(self.catalog.get_variant, name)
        if variant is not None:
            signed = record.require_signed_urls and not variant.never_require_signed_urls
            return variant_options(variant), signed, variant.browser_ttl
        if "=" not in name:
            raise FocalError(ErrorKind.NOT_FOUND, f"no variant named {name!r}")
        if not (await self.config())["flexible_variants"]:
            raise FocalError(
                ErrorKind.FLEXIBLE_VARIANTS_OFF,
                "flexible variants are off: use a named variant, or switch them on with "
                'PATCH /images/v1/config {"flexible_variants": true}',
            )
        if record.require_signed_urls:
            raise FocalError(
                ErrorKind.ACCESS_DENIED,
                "flexible variants are not allowed for images that require signed URLs: "
                "use a named variant",
            )
        return parse_options(name), False, None

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
        options, signed, browser_ttl = await self._options(record, variant)
        if signed:
            await self.verify_signature(path, query, what="image")
        await self.meter.check_delivery()
        hints = ClientHints.from_headers(headers)
        ttl = self.settings.browser_ttl if browser_ttl is None else browser_ttl
        visibility = "private" if record.require_signed_urls else "public"
        cache_control = f"{visibility}, max-age={ttl}, stale-while-revalidate=7200"
        # Billed as a delivery, never as a transformation: the transformation quota never
        # refuses a hosted image.
        delivered = await self.delivery.deliver_resolved(
            hosted_format(options), hints, source, headers, cache_control, metered=False
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


__all__ = [
    "HostedImages",
    "checked_browser_ttl",
    "checked_variant_options",
    "describe",
    "expiry_seconds",
    "shown_variant_options",
    "variant_options",
    "variant_record",
]
