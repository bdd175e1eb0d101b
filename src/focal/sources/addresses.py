"""Where a connection may go: public addresses only, checked when the connection is opened.

The check lives in httpcore's network backend, so that it covers every connection, redirects
included, and the address checked is the address connected to (no second DNS answer).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from focal.errors import ErrorKind, FocalError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


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
