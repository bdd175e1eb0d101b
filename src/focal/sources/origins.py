"""Remote URLs and the allow-list: which origins Focal may fetch originals from."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

from focal.errors import ErrorKind, FocalError

log = logging.getLogger(__name__)
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_VIA_COMMENT = re.compile(r"\([^()]*\)")


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


def load_allow_list(entries: Sequence[str]) -> tuple[AllowRule, ...]:
    """The server's allow-list, read once at start-up: malformed entries are logged, once.

    They are the operator's to fix, so they go to the log, never into answers to clients.
    """
    malformed = [entry for entry in entries if parse_allow_rule(entry) is None]
    if malformed:
        log.warning(
            "FOCAL_ALLOWED_ORIGINS: ignoring %d malformed entr%s: %s",
            len(malformed),
            "y" if len(malformed) == 1 else "ies",
            ", ".join(repr(entry) for entry in malformed),
        )
    return parse_allow_rules(entries)


def is_allowed_origin(url: str, allowed: Sequence[str]) -> bool:
    """Whether url is a valid http(s) URL whose origin an allow-list entry matches."""
    try:
        origin = origin_of(parse_remote_url(url))
    except FocalError:
        return False
    return any(rule.matches(origin) for rule in parse_allow_rules(allowed))


# The hosted product marks its own fetches with `Via: image-resizing`; a request bearing it
# came from an image service fetching through us, so it is refused as a loop like our own.
PRODUCT_LOOP_MARKERS = ("image-resizing",)


def is_loop(via_header: str | None, marker: str) -> bool:
    """Whether an incoming Via header names our marker, or the product's, as a hop.

    Each comma-separated hop is `[protocol/]version received-by [(comment)]` (RFC 9110
    §7.6.3), for example `1.1 focal` or `HTTP/1.1 focal`. The product writes its marker
    bare (`Via: image-resizing`), so its markers count as a one-word hop too; ours, which we
    always write with a version, does not.
    """
    wanted = {name for name in (marker.strip().lower(), *PRODUCT_LOOP_MARKERS) if name}
    if not via_header:
        return False
    for hop in _VIA_COMMENT.sub("", via_header).split(","):
        parts = [part.lower() for part in hop.split()]
        if len(parts) >= 2 and parts[1] in wanted:
            return True
        if len(parts) == 1 and parts[0] in PRODUCT_LOOP_MARKERS:
            return True
    return False
    for hop in _VIA_COMMENT.sub("", via_header).split(","):
        parts = hop.split()
        if len(parts) >= 2 and parts[1].lower() == wanted:
            return True
    return False
