"""Fetching originals from remote origins, safely.

A URL is checked before every request, redirects included: http(s) only, and its origin
must be on the allow-list. The address a connection goes to is checked when the connection
is opened, inside httpcore's network backend, so neither a redirect nor a DNS answer that
changes between checks (rebinding) can reach a private network. Size and time are bounded
over the whole fetch.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpcore
import httpx

from focal import __version__
from focal.config import Settings
from focal.errors import ErrorKind, FocalError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
_VIA_COMMENT = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class RemoteSource:
    """An original as the origin served it."""

    data: bytes
    url: str  # final URL after redirects
    content_type: str | None
    etag: str | None
    last_modified: str | None


# --- URLs and the allow-list -------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a URL, normalised so that equal origins compare equal."""

    scheme: str
    host: str  # lower-case ASCII (IDNA), without a trailing dot
    port: int  # the scheme's default port filled in

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def _invalid_url(url: str, reason: str) -> FocalError:
    return FocalError(ErrorKind.INVALID_URL, f"cannot fetch {url!r}: {reason}")


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
    return True


def parse_remote_url(url: str) -> httpx.URL:
    """The URL as it will be requested, or INVALID_URL if it is not a plain http(s) URL."""
    # httpx would percent-encode these into the host; a URL that needs them is a trick.
    if "\\" in url or any(char.isspace() or not char.isprintable() for char in url):
        raise _invalid_url(url, "it contains spaces, control characters or backslashes")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise _invalid_url(url, str(error)) from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise _invalid_url(url, "only http:// and https:// URLs can be fetched")
    if parsed.userinfo:
        raise _invalid_url(url, "user names and passwords in URLs are not supported")
    if not _is_host(parsed.raw_host.decode("ascii", "replace")):
        raise _invalid_url(url, "it has no valid host name")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise _invalid_url(url, f"port {parsed.port} is out of range")
    return parsed


def _normalise_host(raw_host: bytes) -> str:
    return raw_host.decode("ascii", "replace").lower().removesuffix(".")


def origin_of(url: httpx.URL) -> Origin:
    """The normalised origin of a URL that passed parse_remote_url."""
    port = url.port if url.port is not None else DEFAULT_PORTS[url.scheme]
    return Origin(url.scheme, _normalise_host(url.raw_host), port)


@dataclass(frozen=True)
class AllowRule:
    """One FOCAL_ALLOWED_ORIGINS entry.

    `https://img.example.com[:port]` allows exactly that origin; `img.example.com[:port]`
    allows it over http and https; `*.example.com` allows subdomains, not example.com
    itself. Without a port only the scheme's default port is allowed, so that allowing a
    host does not open its other services.
    """

    host: str
    scheme: str | None = None  # None: http or https
    port: int | None = None  # None: the scheme's default port
    subdomains_only: bool = False

    def matches(self, origin: Origin) -> bool:
        if self.scheme is not None and self.scheme != origin.scheme:
            return False
        expected_port = self.port if self.port is not None else DEFAULT_PORTS[origin.scheme]
        if origin.port != expected_port:
            return False
        if self.subdomains_only:
            return origin.host.endswith("." + self.host)
        return origin.host == self.host


def parse_allow_rule(entry: str) -> AllowRule | None:
    """The rule an allow-list entry stands for, or None if the entry is malformed."""
    scheme, separator, rest = entry.strip().partition("://")
    if not separator:
        scheme, rest = "", entry.strip()
    scheme = scheme.lower()
    subdomains_only = rest.startswith("*.")
    rest = rest.removeprefix("*.")
    if scheme and scheme not in DEFAULT_PORTS:
        return None
    try:
        # Scheme-relative when no scheme is given, so that an explicit ":80" is kept.
        parsed = httpx.URL(f"{scheme}://{rest}" if scheme else f"//{rest}")
    except httpx.InvalidURL:
        return None
    host = _normalise_host(parsed.raw_host)
    if not _is_host(host) or parsed.userinfo or parsed.path not in ("", "/") or parsed.query:
        return None
    port = parsed.port if parsed.port is not None else DEFAULT_PORTS.get(scheme)
    return AllowRule(host, scheme or None, port, subdomains_only)


def parse_allow_rules(entries: Iterable[str]) -> tuple[AllowRule, ...]:
    return tuple(rule for rule in map(parse_allow_rule, entries) if rule is not None)


def is_allowed_origin(url: str, allowed: Sequence[str]) -> bool:
    """Whether url is a valid http(s) URL whose origin an allow-list entry matches."""
    try:
        origin = origin_of(parse_remote_url(url))
    except FocalError:
        return False
    return any(rule.matches(origin) for rule in parse_allow_rules(allowed))


def is_loop(via_header: str | None, marker: str) -> bool:
    """Whether an incoming Via header names our marker as a received-by hop (RFC 9110 §7.6.3).

    Each comma-separated hop is `[protocol/]version received-by [(comment)]`, for example
    `1.1 focal` or `HTTP/1.1 focal`.
    """
    wanted = marker.strip().lower()
    if not via_header or not wanted:
        return False
    for hop in _VIA_COMMENT.sub("", via_header).split(","):
        parts = hop.split()
        if len(parts) >= 2 and parts[1].lower() == wanted:
            return True
    return False


# --- Address safety -------------------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through (mapped, 6to4 or NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _is_site_local(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv6Address) and address.is_site_local


# First match names the class; the last catches what is left, such as 100.64.0.0/10 (CGNAT).
_FORBIDDEN_CLASSES: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda address: address.is_unspecified),
    ("loopback", lambda address: address.is_loopback),
    ("link-local", lambda address: address.is_link_local),
    ("multicast", lambda address: address.is_multicast),
    ("private", lambda address: address.is_private),
    ("reserved", lambda address: address.is_reserved),
    ("site-local", _is_site_local),
    ("non-public", lambda address: not address.is_global),
)


def forbidden_address_class(address: IPAddress) -> str | None:
    """The class of a non-public address (e.g. "loopback"), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    for label, applies in _FORBIDDEN_CLASSES:
        if applies(address):
            return label
    return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address host resolves to, in the resolver's order of preference."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FocalError(
            ErrorKind.DNS_FAILED,
            f"could not resolve the host {host!r} ({error}); "
            "check the host name in the URL and this server's DNS settings",
        ) from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(str(sockaddr[0]))
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise FocalError(
            ErrorKind.DNS_FAILED, f"the host {host!r} resolved to no IP address; check its DNS"
        )
    return addresses


def refuse_private_addresses(host: str, addresses: Iterable[IPAddress]) -> None:
    """Raise ORIGIN_NOT_ALLOWED if any address is not public: one is enough to be steered to."""
    for address in addresses:
        label = forbidden_address_class(address)
        if label is None:
            continue
        where = host if host == str(address) else f"{host} (resolves to {address})"
        raise FocalError(
            ErrorKind.ORIGIN_NOT_ALLOWED,
            f"refusing to connect to {where}: it is a {label} address, and fetching from "
            "private networks is off to protect internal services; set "
            "FOCAL_ALLOW_PRIVATE_NETWORKS=true only if this origin is trusted",
        )


class AddressCheckingBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses that passed the private-network check.

    The host is resolved once, here, and the connection is made to the checked address
    itself, so no later DNS answer can change where it lands. TLS is unaffected: httpcore
    calls start_tls with the URL's host name for SNI and certificate checks.
    """

    def __init__(
        self,
        *,
        allow_private_networks: bool,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private_networks = allow_private_networks
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_host(host, port)
        if not self._allow_private_networks:
            refuse_private_addresses(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None  # resolve_host never returns an empty list
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("remote origins are never reached through unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# --- httpx transport over the checking backend --------------------------------------------

# Most specific first: the first match decides which httpx exception is raised.
_HTTPCORE_TO_HTTPX: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        for core_type, httpx_type in _HTTPCORE_TO_HTTPX:
            if isinstance(error, core_type):
                raise httpx_type(str(error)) from error
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class AddressCheckingTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections all go through AddressCheckingBackend.

    httpx 0.28's AsyncHTTPTransport cannot be given a network backend, so this is the
    small adapter between httpx and an httpcore pool that can.
    """

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            core_response = await self._pool.handle_async_request(core_request)
        if not isinstance(core_response.stream, AsyncIterable):
            raise TypeError("an async connection pool returned a synchronous stream")
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


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
        self._rules = parse_allow_rules(settings.allowed_origins)
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

    async def fetch(self, url: str) -> RemoteSource:
        """The original at url, after redirects; every refusal or failure is a FocalError."""
        try:
            async with asyncio.timeout(self._settings.fetch_timeout):
                return await self._follow_redirects(url)
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
            malformed = [e for e in self._settings.allowed_origins if parse_allow_rule(e) is None]
            note = f" (ignored as malformed: {', '.join(malformed)})" if malformed else ""
            raise FocalError(
                ErrorKind.ORIGIN_NOT_ALLOWED,
                f"cannot fetch {url}: the origin {origin} is not in FOCAL_ALLOWED_ORIGINS"
                f"{note}; add it there to allow it",
            )
        return parsed

    async def _follow_redirects(self, url: str) -> RemoteSource:
        target = self._checked_url(url)
        redirects_followed = 0
        while True:
            async with self._stream(target) as response:
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
    async def _stream(self, url: httpx.URL) -> AsyncIterator[httpx.Response]:
        """A streamed GET of url, with transport failures turned into FocalErrors."""
        try:
            async with self._client.stream("GET", url) as response:
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
        )
