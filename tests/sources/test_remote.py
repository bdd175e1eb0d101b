"""RemoteFetcher against a real HTTP origin on 127.0.0.1, plus the pure checks it relies on."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from focal import __version__
from focal.config import Settings
from focal.errors import ErrorKind, FocalError
from focal.sources.addresses import forbidden_address_class, refuse_private_addresses
from focal.sources.origins import is_allowed_origin, is_loop
from focal.sources.remote import RemoteFetcher, RemoteSource

# Every byte value, so that any mangling of the body shows.
IMAGE = bytes(range(256)) * 400
ETAG = '"focal-test-1"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
SLOW_SECONDS = 2.0
ENDLESS_CHUNK = b"\0" * 16384
ENDLESS_MAX_CHUNKS = 4096  # 64 MiB: ends the stream even if the client never stops


# --- A recording origin server -------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    client_port: int


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), OriginHandler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[ReceivedRequest] = []
        self.stream_aborted = threading.Event()
        self.sent_slow_body = threading.Event()  # a slow or trickling answer was sent whole
        self.redirect_away_to = ""

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.lock:
            self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The fetcher hangs up on purpose (too large, too slow); that is not a test failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def record(self, received: ReceivedRequest) -> None:
        with self.lock:
            self.requests.append(received)

    def reset(self) -> None:
        with self.lock:
            self.connections = 0
            self.requests.clear()
        self.stream_aborted.clear()
        self.sent_slow_body.clear()


class OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so that connection reuse can be seen
    server: OriginServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        headers = dict(self.headers.items())
        self.server.record(ReceivedRequest(path, headers, self.client_address[1]))
        if path in ("/image.jpg", "/via"):
            self._send_image()
        elif path.startswith("/redirect/"):
            remaining = int(path.removeprefix("/redirect/"))
            if remaining == 0:
                self._send_image()
            else:
                self._send_redirect(f"/redirect/{remaining - 1}")
        elif path == "/redirect-away":
            self._send_redirect(self.server.redirect_away_to)
        elif path == "/redirect-ftp":
            self._send_redirect("ftp://127.0.0.1/image.jpg")
        elif path == "/redirect-without-location":
            self._send_redirect(None)
        elif path == "/slow":
            self._send_slowly()
        elif path == "/trickle":
            self._send_trickle()
        elif path == "/huge-header":
            self._send_huge_content_length()
        elif path == "/chunked-image":
            self._send_chunked([IMAGE[i : i + 10_000] for i in range(0, len(IMAGE), 10_000)])
        elif path == "/endless":
            self._send_endless_chunks()
        else:
            self._send_status({"/gone": 410, "/forbidden": 403, "/broken": 500}.get(path, 404))

    def _send_image(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(IMAGE)))
        self.send_header("ETag", ETAG)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        self.wfile.write(IMAGE)

    def _send_redirect(self, location: str | None) -> None:
        self.send_response(302)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_status(self, status: int) -> None:
        body = f"status {status}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_slowly(self) -> None:
        time.sleep(SLOW_SECONDS)
        self.close_connection = True
        self._send_image()
        self.server.sent_slow_body.set()

    def _send_trickle(self) -> None:
        """A byte every 0.1 s: no single read waits long, only the whole body does."""
        body = IMAGE[: int(SLOW_SECONDS * 10)]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        for byte in body:
            time.sleep(0.1)
            self.wfile.write(bytes([byte]))
        self.server.sent_slow_body.set()

    def _send_huge_content_length(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(10**12))
        self.end_headers()
        self.wfile.write(IMAGE)
        self.close_connection = True

    def _start_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, chunk: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _send_chunked(self, chunks: list[bytes]) -> None:
        self._start_chunked()
        for chunk in chunks:
            self._write_chunk(chunk)
        self.wfile.write(b"0\r\n\r\n")

    def _send_endless_chunks(self) -> None:
        self._start_chunked()
        self.close_connection = True
        try:
            for _ in range(ENDLESS_MAX_CHUNKS):
                self._write_chunk(ENDLESS_CHUNK)
        except ConnectionError:
            self.server.stream_aborted.set()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[OriginServer, OriginServer]]:
    origin, elsewhere = OriginServer(), OriginServer()
    origin.redirect_away_to = f"{elsewhere.origin}/image.jpg"
    for server in (origin, elsewhere):
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield origin, elsewhere
    for server in (origin, elsewhere):
        server.shutdown()
        server.server_close()


@pytest.fixture
def origin(servers: tuple[OriginServer, OriginServer]) -> OriginServer:
    servers[0].reset()
    return servers[0]


@pytest.fixture
def elsewhere(servers: tuple[OriginServer, OriginServer]) -> OriginServer:
    servers[1].reset()
    return servers[1]


def allowing(server: OriginServer, **changes: Any) -> Settings:
    """Settings that allow the test origin, which lives on loopback."""
    base = Settings(allowed_origins=(server.origin,), allow_private_networks=True, fetch_timeout=5)
    return base.replace(**changes)


def fetch(settings: Settings, url: str, *, max_bytes: int | None = None) -> RemoteSource:
    async def run() -> RemoteSource:
        async with RemoteFetcher(settings, max_bytes=max_bytes) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())


def fetch_error(settings: Settings, url: str, *, max_bytes: int | None = None) -> FocalError:
    with pytest.raises(FocalError) as caught:
        fetch(settings, url, max_bytes=max_bytes)
    return caught.value


# --- Fetching ---------------------------------------------------------------------------------


def test_an_allowed_origin_is_fetched_byte_for_byte_with_its_metadata(origin: OriginServer) -> None:
    source = fetch(allowing(origin), f"{origin.origin}/image.jpg")

    assert source.data == IMAGE
    assert source.url == f"{origin.origin}/image.jpg"
    assert source.content_type == "image/jpeg"
    assert source.etag == ETAG
    assert source.last_modified == LAST_MODIFIED


def test_a_chunked_body_within_the_limit_is_fetched_whole(origin: OriginServer) -> None:
    source = fetch(allowing(origin), f"{origin.origin}/chunked-image", max_bytes=len(IMAGE))

    assert source.data == IMAGE


def test_one_fetcher_reuses_its_connection(origin: OriginServer) -> None:
    async def fetch_twice() -> None:
        async with RemoteFetcher(allowing(origin)) as fetcher:
            await fetcher.fetch(f"{origin.origin}/image.jpg")
            await fetcher.fetch(f"{origin.origin}/image.jpg")

    asyncio.run(fetch_twice())

    assert origin.connections == 1
    assert len({received.client_port for received in origin.requests}) == 1


def test_every_request_carries_via_and_user_agent(origin: OriginServer) -> None:
    fetch(allowing(origin, via_marker="edge-7"), f"{origin.origin}/via")

    (received,) = origin.requests
    assert received.headers["Via"] == "1.1 edge-7"
    assert received.headers["User-Agent"] == f"focal/{__version__}"


def test_via_is_sent_on_every_hop_of_a_redirect_chain(origin: OriginServer) -> None:
    fetch(allowing(origin), f"{origin.origin}/redirect/2")

    assert [received.headers["Via"] for received in origin.requests] == ["1.1 focal"] * 3


# --- Refusals before any connection -----------------------------------------------------------


def test_a_loopback_origin_is_refused_unless_private_networks_are_allowed(
    origin: OriginServer,
) -> None:
    error = fetch_error(
        allowing(origin, allow_private_networks=False), f"{origin.origin}/image.jpg"
    )

    assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert error.status == 403
    assert "127.0.0.1" in error.message
    assert "loopback" in error.message
    assert "FOCAL_ALLOW_PRIVATE_NETWORKS" in error.message
    assert origin.connections == 0


def test_an_origin_missing_from_the_allow_list_is_refused(origin: OriginServer) -> None:
    settings = allowing(origin, allowed_origins=("https://images.example.com",))

    error = fetch_error(settings, f"{origin.origin}/image.jpg")

    assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert origin.origin in error.message
    assert "FOCAL_ALLOWED_ORIGINS" in error.message
    assert origin.connections == 0


def test_malformed_allow_list_entries_are_logged_once_and_never_told_to_clients(
    origin: OriginServer, caplog: pytest.LogCaptureFixture
) -> None:
    malformed = "https://img.example.com/images"
    settings = allowing(origin, allowed_origins=(malformed, "ftp://files.example.com"))

    async def refusals() -> list[FocalError]:
        errors = []
        async with RemoteFetcher(settings) as fetcher:  # built once, at start-up
            for _ in range(3):
                with pytest.raises(FocalError) as caught:
                    await fetcher.fetch(f"{origin.origin}/image.jpg")
                errors.append(caught.value)
        return errors

    with caplog.at_level(logging.WARNING, logger="focal.sources.origins"):
        errors = asyncio.run(refusals())

    for error in errors:
        assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
        assert f"the origin {origin.origin} is not in FOCAL_ALLOWED_ORIGINS" in error.message
        assert "img.example.com" not in error.message and "ftp" not in error.message
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert malformed in warnings[0].getMessage()
    assert "ftp://files.example.com" in warnings[0].getMessage()
    assert origin.connections == 0


def test_an_empty_allow_list_turns_remote_fetching_off(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin, allowed_origins=()), f"{origin.origin}/image.jpg")

    assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert "off" in error.message
    assert "FOCAL_ALLOWED_ORIGINS" in error.message
    assert origin.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/image.jpg",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "//127.0.0.1/image.jpg",
        "http:///image.jpg",
        "http://",
        "http://127.0.0.1:99999/image.jpg",
        "{origin}/image one.jpg",
        "{origin}/image.jpg\r\nX-Injected: 1",
        "http://user:secret@127.0.0.1:{port}/image.jpg",
        "http://images.example.com@127.0.0.1:{port}/image.jpg",
        "http://images.example.com\\@127.0.0.1:{port}/image.jpg",
    ],
)
def test_anything_but_a_plain_http_url_is_invalid(origin: OriginServer, url: str) -> None:
    url = url.format(origin=origin.origin, port=origin.port)

    error = fetch_error(allowing(origin), url)

    assert error.kind is ErrorKind.INVALID_URL
    assert origin.connections == 0


# --- Resolution at connection time --------------------------------------------------------------


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Resolves origin.test to 127.0.0.1 and fails nowhere.test; returns the names looked up."""
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "origin.test":
            lookups.append(host)
            loopback = ("127.0.0.1", port)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", loopback)]
        if host == "nowhere.test":
            lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_host_name_is_resolved_once_and_its_checked_address_is_connected_to(
    origin: OriginServer, fake_dns: list[str]
) -> None:
    url = f"http://origin.test:{origin.port}/image.jpg"
    settings = allowing(origin, allowed_origins=(f"http://origin.test:{origin.port}",))

    source = fetch(settings, url)

    assert source.data == IMAGE
    # A second lookup would let a rebinding DNS server swap the address after the check.
    assert fake_dns == ["origin.test"]
    assert origin.requests[0].headers["Host"] == f"origin.test:{origin.port}"


def test_a_host_name_resolving_to_a_private_address_is_refused(
    origin: OriginServer, fake_dns: list[str]
) -> None:
    url = f"http://origin.test:{origin.port}/image.jpg"
    settings = allowing(
        origin,
        allowed_origins=(f"http://origin.test:{origin.port}",),
        allow_private_networks=False,
    )

    error = fetch_error(settings, url)

    assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert "origin.test (resolves to 127.0.0.1)" in error.message
    assert "FOCAL_ALLOW_PRIVATE_NETWORKS" in error.message
    assert origin.connections == 0


def test_a_host_name_that_does_not_resolve_fails_with_dns_failed(fake_dns: list[str]) -> None:
    settings = Settings(allowed_origins=("nowhere.test",))

    error = fetch_error(settings, "https://nowhere.test/image.jpg")

    assert error.kind is ErrorKind.DNS_FAILED
    assert "nowhere.test" in error.message
    assert fake_dns == ["nowhere.test"]


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    addresses = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]

    with pytest.raises(FocalError) as caught:
        refuse_private_addresses("mixed.example", addresses)

    assert caught.value.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert "mixed.example (resolves to 10.0.0.1)" in caught.value.message
    assert "private" in caught.value.message


# --- Redirects --------------------------------------------------------------------------------


def test_five_redirects_are_followed(origin: OriginServer) -> None:
    source = fetch(allowing(origin), f"{origin.origin}/redirect/5")

    assert source.data == IMAGE
    assert source.url == f"{origin.origin}/redirect/0"
    assert len(origin.requests) == 6


def test_a_sixth_redirect_is_too_many(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/redirect/6")

    assert error.kind is ErrorKind.TOO_MANY_REDIRECTS
    assert "FOCAL_MAX_REDIRECTS" in error.message
    assert len(origin.requests) == 6  # the sixth Location is never requested


def test_max_redirects_comes_from_settings(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin, max_redirects=0), f"{origin.origin}/redirect/1")

    assert error.kind is ErrorKind.TOO_MANY_REDIRECTS


def test_a_redirect_to_a_disallowed_origin_is_refused(
    origin: OriginServer, elsewhere: OriginServer
) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/redirect-away")

    assert error.kind is ErrorKind.ORIGIN_NOT_ALLOWED
    assert elsewhere.origin in error.message
    assert "redirect" in error.message
    assert elsewhere.connections == 0


def test_a_redirect_to_another_scheme_is_invalid(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/redirect-ftp")

    assert error.kind is ErrorKind.INVALID_URL
    assert "ftp://127.0.0.1/image.jpg" in error.message


def test_a_redirect_without_location_is_a_bad_redirect(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/redirect-without-location")

    assert error.kind is ErrorKind.BAD_REDIRECT
    assert "302" in error.message


# --- Origin answers, size and time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "status"),
    [
        ("/missing", ErrorKind.NOT_FOUND, "404"),
        ("/gone", ErrorKind.NOT_FOUND, "410"),
        ("/forbidden", ErrorKind.FETCH_FAILED, "403"),
        ("/broken", ErrorKind.ORIGIN_DOWN, "500"),
    ],
)
def test_origin_errors_map_to_error_kinds_naming_the_status(
    origin: OriginServer, path: str, kind: ErrorKind, status: str
) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}{path}")

    assert error.kind is kind
    assert status in error.message
    assert path in error.message


def test_a_refused_connection_means_the_origin_is_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = Settings(
        allowed_origins=(f"http://127.0.0.1:{closed_port}",), allow_private_networks=True
    )

    error = fetch_error(settings, f"http://127.0.0.1:{closed_port}/image.jpg")

    assert error.kind is ErrorKind.ORIGIN_DOWN


def test_a_slow_origin_times_out(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin, fetch_timeout=0.3), f"{origin.origin}/slow")

    assert error.kind is ErrorKind.ORIGIN_TIMEOUT
    assert "FOCAL_FETCH_TIMEOUT" in error.message
    assert not origin.sent_slow_body.is_set()  # gave up, did not wait the origin out


def test_the_timeout_bounds_the_whole_fetch_not_each_read(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin, fetch_timeout=0.5), f"{origin.origin}/trickle")

    assert error.kind is ErrorKind.ORIGIN_TIMEOUT
    assert not origin.sent_slow_body.is_set()  # no single read was slow; the whole was


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    origin: OriginServer,
) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/image.jpg", max_bytes=len(IMAGE) - 1)

    assert error.kind is ErrorKind.SOURCE_TOO_LARGE
    assert str(len(IMAGE)) in error.message
    assert "FOCAL_MAX_SOURCE_BYTES" in error.message


def test_a_huge_content_length_is_refused_with_the_default_limit(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/huge-header")

    assert error.kind is ErrorKind.SOURCE_TOO_LARGE
    assert str(10**12) in error.message


def test_a_stream_growing_past_the_limit_is_cut_off(origin: OriginServer) -> None:
    error = fetch_error(allowing(origin), f"{origin.origin}/endless", max_bytes=64 * 1024)

    assert error.kind is ErrorKind.SOURCE_TOO_LARGE
    # The fetcher hung up: the origin's writes failed long before its 64 MiB were sent.
    assert origin.stream_aborted.wait(timeout=5)


# --- Loops ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("via", "expected"),
    [
        ("1.1 focal", True),
        ("HTTP/1.1 focal", True),
        ("1.1 Focal", True),
        ("1.0 fred, 1.1 focal", True),
        ("1.1 cdn.example.com (Example/2.0),1.1 focal (focal/0.1)", True),
        (None, False),
        ("", False),
        ("1.1 focalx", False),
        ("1.1 varnish, 1.1 cdn.example.com", False),
        ("1.1 proxy (forwarded for focal)", False),
        ("focal", False),
    ],
)
def test_is_loop_finds_our_marker_as_a_received_by_hop(via: str | None, expected: bool) -> None:
    assert is_loop(via, "focal") is expected


def test_is_loop_uses_the_configured_marker() -> None:
    assert is_loop("1.1 edge-7", "edge-7")
    assert not is_loop("1.1 focal", "edge-7")


# --- Address classification (no connections) ------------------------------------------------


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 for 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 for 10.0.0.1
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("240.0.0.1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, label: str) -> None:
    assert forbidden_address_class(ipaddress.ip_address(address)) == label


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:2800:220:1:248:1893:25c8:1946",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",  # NAT64 for 93.184.216.34
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_address_class(ipaddress.ip_address(address)) is None


# --- Allow-list matching ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "url", "expected"),
    [
        # Exact origin: scheme, host and port must all match.
        ("https://img.example.com", "https://img.example.com/a.jpg", True),
        ("https://img.example.com", "https://img.example.com:443/a.jpg", True),
        ("https://img.example.com", "https://IMG.Example.COM./a.jpg", True),
        ("https://img.example.com", "http://img.example.com/a.jpg", False),
        ("https://img.example.com", "https://img.example.com:8443/a.jpg", False),
        ("https://img.example.com", "https://cdn.img.example.com/a.jpg", False),
        ("https://img.example.com", "https://img.example.com.evil.net/a.jpg", False),
        ("https://img.example.com:443/", "https://img.example.com/a.jpg", True),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/a.jpg", True),
        ("http://127.0.0.1:8080", "http://127.0.0.1/a.jpg", False),
        ("http://[::1]:8080", "http://[::1]:8080/a.jpg", True),
        # Bare host: http or https, default port unless one is given.
        ("img.example.com", "http://img.example.com/a.jpg", True),
        ("img.example.com", "https://img.example.com/a.jpg", True),
        ("Img.Example.com", "https://img.example.com/a.jpg", True),
        ("img.example.com", "https://img.example.com:8443/a.jpg", False),
        ("img.example.com:8443", "https://img.example.com:8443/a.jpg", True),
        ("img.example.com:8443", "https://img.example.com/a.jpg", False),
        # Wildcard: subdomains at any depth, never the domain itself or a look-alike.
        ("*.example.com", "https://a.example.com/a.jpg", True),
        ("*.example.com", "http://a.b.example.com/a.jpg", True),
        ("*.example.com", "https://example.com/a.jpg", False),
        ("*.example.com", "https://badexample.com/a.jpg", False),
        ("*.example.com", "https://example.com.evil.net/a.jpg", False),
        ("https://*.example.com", "https://a.example.com/a.jpg", True),
        ("https://*.example.com", "http://a.example.com/a.jpg", False),
        # Internationalised names compare in their IDNA form.
        ("bücher.example", "https://xn--bcher-kva.example/a.jpg", True),
        ("xn--bcher-kva.example", "https://bücher.example/a.jpg", True),
        # Tricks and malformed entries match nothing.
        ("img.example.com", "https://img.example.com@evil.net/a.jpg", False),
        ("img.example.com", "https://evil.net\\@img.example.com/a.jpg", False),
        ("img.example.com", "ftp://img.example.com/a.jpg", False),
        ("https://img.example.com/images", "https://img.example.com/images/a.jpg", False),
        ("ftp://img.example.com", "https://img.example.com/a.jpg", False),
    ],
)
def test_allow_list_entries_match_origins(entry: str, url: str, expected: bool) -> None:
    assert is_allowed_origin(url, [entry]) is expected


def test_an_empty_allow_list_allows_nothing() -> None:
    assert not is_allowed_origin("https://img.example.com/a.jpg", [])


def test_any_matching_entry_allows() -> None:
    allowed = ["https://img.example.com", "*.cdn.example.net"]

    assert is_allowed_origin("https://eu.cdn.example.net/a.jpg", allowed)
    assert not is_allowed_origin("https://cdn.example.net/a.jpg", allowed)
