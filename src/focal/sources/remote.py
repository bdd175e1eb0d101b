"""Fetching originals from remote origins, safely.

A URL is checked before every request, redirects included: http(s) only, and its origin
must be on the allow-list. The address a connection goes to is checked when the connection
is opened, inside httpcore's network backend, so neither a redirect nor a DNS answer that
changes between checks (rebinding) can reach a private network. Size and time are bounded
over the whole fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from focal import __version__
from focal.config import Settings
from focal.errors import ErrorKind, FocalError
from focal.sources.addresses import (
    AddressCheckingBackend,
    AddressCheckingTransport,
)
from focal.sources.origins import (
    REDIRECT_STATUSES,
    load_allow_list,
    origin_of,
    parse_remote_url,
)


@dataclass(frozen=True)
class RemoteSource:
    """An original as the origin served it."""

    data: bytes
    url: str  # final URL after redirects
    content_type: str | None
    etag: str | None
    last_modified: str | None
    cache_control: str | None = None
    not_modified: bool = False  # a 304 to a conditional fetch: `data` is empty

    def validators(self) -> dict[str, str]:
        """The headers that ask the origin later whether this answer still holds."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class UrlSource:
    """A remote original as a `Source` (focal.sources.base): fetched already, or fetched
    when a transformation needs it (its fingerprint known fresh, or confirmed by a 304)."""

    url: str
    fingerprint: str
    fetcher: RemoteFetcher
    data: bytes | None = None

    @property
    def name(self) -> str:
        return f"url:{self.url}"

    @property
    def original_url(self) -> str:
        return self.url

    @property
    def in_memory(self) -> bool:
        return self.data is not None

    async def read(self) -> bytes:
        if self.data is not None:
            return self.data
        return (await self.fetcher.fetch(self.url)).data

    def blocking_read(self) -> None:
        return None  # fetched on the event loop (or read already: `read` costs nothing)


# --- The fetcher ------------------------------------------------------------------------------


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def _too_large(url: httpx.URL, limit: int, declared: int | None = None) -> FocalError:
    size = f"is {declared} bytes" if declared is not None else "is larger than that"
    return FocalError(
        ErrorKind.SOURCE_TOO_LARGE,
        f"{url} {size}; the limit is {limit} bytes. "
        "Use a smaller original or raise FOCAL_MAX_SOURCE_BYTES",
    )


def _not_modified(response: httpx.Response, url: httpx.URL) -> RemoteSource:
    return RemoteSource(
        data=b"",
        url=str(url),
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        cache_control=response.headers.get("Cache-Control"),
        not_modified=True,
    )


def _raise_for_status(response: httpx.Response, url: httpx.URL) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (404, 410):
        raise FocalError(
            ErrorKind.NOT_FOUND,
            f"the origin answered {status} for {url}: there is no image there; check the path",
        )
    if status >= 500:
        raise FocalError(
            ErrorKind.ORIGIN_DOWN,
            f"the origin answered {status} for {url}: it is failing; "
            "try again later or fix the origin",
        )
    raise FocalError(
        ErrorKind.FETCH_FAILED,
        f"the origin answered {status} for {url}; check the URL and the origin's access rules",
    )


class RemoteFetcher:
    """Fetches originals from allow-listed origins through one pooled HTTP client."""

    def __init__(self, settings: Settings, *, max_bytes: int | None = None) -> None:
        self._settings = settings
        self._rules = load_allow_list(settings.allowed_origins)
        self._max_bytes = settings.max_source_bytes if max_bytes is None else max_bytes
        backend = AddressCheckingBackend(allow_private_networks=settings.allow_private_networks)
        self._client = httpx.AsyncClient(
            transport=AddressCheckingTransport(backend),
            follow_redirects=False,  # each hop is checked in _follow_redirects
            trust_env=False,  # no proxy or .netrc from the environment
            timeout=httpx.Timeout(settings.fetch_timeout),
            headers={
                "User-Agent": f"focal/{__version__}",
                "Via": f"1.1 {settings.via_marker}",
                # Images are already compressed; identity keeps Content-Length the real size.
                "Accept-Encoding": "identity",
            },
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Mapping[str, str] | None = None) -> RemoteSource:
        """The original at url, after redirects; every refusal or failure is a FocalError.

        With `validators` (from an earlier answer's `validators()`) the fetch is conditional:
        an origin whose original has not changed answers 304, a RemoteSource without data.
        """
        try:
            async with asyncio.timeout(self._settings.fetch_timeout):
                return await self._follow_redirects(url, validators or {})
        except TimeoutError:
            raise self._timed_out(url) from None

    def _timed_out(self, url: str | httpx.URL) -> FocalError:
        return FocalError(
            ErrorKind.ORIGIN_TIMEOUT,
            f"fetching {url} took longer than {self._settings.fetch_timeout} s; "
            "make the origin answer faster or raise FOCAL_FETCH_TIMEOUT",
        )

    def _checked_url(self, url: str) -> httpx.URL:
        parsed = parse_remote_url(url)
        origin = origin_of(parsed)
        if not self._settings.allowed_origins:
            raise FocalError(
                ErrorKind.ORIGIN_NOT_ALLOWED,
                f"cannot fetch {url}: remote fetching is off. Set FOCAL_ALLOWED_ORIGINS "
                f"to the origins to fetch from, e.g. FOCAL_ALLOWED_ORIGINS={origin}",
            )
        if not any(rule.matches(origin) for rule in self._rules):
            raise FocalError(
                ErrorKind.ORIGIN_NOT_ALLOWED,
                f"cannot fetch {url}: the origin {origin} is not in FOCAL_ALLOWED_ORIGINS; "
                "add it there to allow it",
            )
        return parsed

    async def _follow_redirects(self, url: str, validators: Mapping[str, str]) -> RemoteSource:
        target = self._checked_url(url)
        redirects_followed = 0
        while True:
            async with self._stream(target, validators) as response:
                if response.status_code == 304 and validators:
                    return _not_modified(response, target)
                if not 300 <= response.status_code < 400:
                    _raise_for_status(response, target)
                    return await self._read_source(response, target)
                if redirects_followed == self._settings.max_redirects:
                    raise FocalError(
                        ErrorKind.TOO_MANY_REDIRECTS,
                        f"{url} redirected more than {redirects_followed} times (the last "
                        f"hop was {target}); use the final URL or raise FOCAL_MAX_REDIRECTS",
                    )
                target = self._redirect_target(response, target)
                redirects_followed += 1

    def _redirect_target(self, response: httpx.Response, current: httpx.URL) -> httpx.URL:
        location = response.headers.get("Location", "").strip()
        if response.status_code not in REDIRECT_STATUSES or not location:
            raise FocalError(
                ErrorKind.BAD_REDIRECT,
                f"the origin answered {response.status_code} for {current} without a "
                "Location to follow; fix the redirect at the origin or use the final URL",
            )
        try:
            next_url = str(current.join(location))
        except httpx.InvalidURL as error:
            raise FocalError(
                ErrorKind.BAD_REDIRECT,
                f"{current} redirected to an unusable Location {location!r} ({error})",
            ) from None
        try:
            return self._checked_url(next_url)
        except FocalError as error:
            raise FocalError(
                error.kind, f"{error.message} (reached by a redirect from {current})"
            ) from None

    @asynccontextmanager
    async def _stream(
        self, url: httpx.URL, headers: Mapping[str, str]
    ) -> AsyncIterator[httpx.Response]:
        """A streamed GET of url, with transport failures turned into FocalErrors."""
        try:
            async with self._client.stream("GET", url, headers=dict(headers)) as response:
                yield response
        except httpx.TimeoutException:
            raise self._timed_out(url) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
            raise FocalError(
                ErrorKind.ORIGIN_DOWN,
                f"the origin of {url} could not be reached or dropped the connection "
                f"({_describe(error)}); check that it is up",
            ) from None
        except httpx.HTTPError as error:
            raise FocalError(
                ErrorKind.FETCH_FAILED,
                f"fetching {url} failed ({_describe(error)}); check the origin's response",
            ) from None

    async def _read_source(self, response: httpx.Response, url: httpx.URL) -> RemoteSource:
        limit = self._max_bytes
        declared = _declared_length(response)
        if declared is not None and declared > limit:
            raise _too_large(url, limit, declared)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise _too_large(url, limit)
        return RemoteSource(
            data=bytes(body),
            url=str(url),
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            cache_control=response.headers.get("Cache-Control"),
        )
