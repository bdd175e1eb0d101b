"""Signed `/cdn-cgi/image/` URLs: with FOCAL_URL_SIGNING_KEYS, only this server's signer
chooses what is transformed.

What is signed is the request target as the client sent it, up to `&sig=`:

    <path>?exp=<unix time>                      a source of the origin folder (or hosted)
    <path>?<the source's own query>&exp=<unix time>   a remote source with a query

`<path>` is the raw path (percent-encoding kept as sent: `%77idth=400` and `w=400` are other
paths than `width=400`, so a signature never carries over to a respelling); `exp` and `sig`
are the query's last two parameters, and what comes before them belongs to a remote source's
URL. Any other source takes no query with signing on. Option strings listed in
FOCAL_UNSIGNED_OPTIONS are served without a signature, compared by canonical form: any
spelling of an allowed transformation is that same transformation, the same cache entry and
the same count, so it costs nothing more than the spelling listed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from focal.catalog.times import now_micros
from focal.errors import ErrorKind, FocalError
from focal.options import Options, canonical, parse_options
from focal.service.metering import Clock
from focal.signing import signature_matches

_SIGNED = ("exp", "sig")
_EXPIRES = re.compile(r"0|[1-9][0-9]{0,15}")  # one spelling of each time: no leading zeros


@dataclass(frozen=True)
class RequestTarget:
    """A `/cdn-cgi/image/` request's path and query, as the client sent them."""

    raw_path: bytes
    query: str

    def signed_parts(self) -> tuple[str, str | None, str | None]:
        """(the query before exp and sig, exp, sig); exp and sig are None unless they are
        the last two parameters."""
        parameters = self.query.split("&") if self.query else []
        signed = len(parameters) >= 2 and parameters[-2].startswith("exp=")
        if signed and parameters[-1].startswith("sig="):
            rest = "&".join(parameters[:-2])
            return rest, parameters[-2].removeprefix("exp="), parameters[-1].removeprefix("sig=")
        return self.query, None, None


def _not_signed(message: str) -> FocalError:
    return FocalError(ErrorKind.URL_NOT_SIGNED, message)


OPTIONS_KEPT = 4096  # spellings of options whose parse is remembered (at most about 4 MB)
OPTIONS_KEPT_LENGTH = 256  # characters: longer spellings are rare, and would fill it faster


class UrlAccess:
    """Which `/cdn-cgi/image/` requests this server serves; built by `focal.service.parts`."""

    def __init__(
        self,
        keys: Iterable[str],
        unsigned_options: Iterable[str] = (),
        presets: Mapping[str, str] | None = None,
        clock: Clock = now_micros,
    ) -> None:
        self.keys = tuple(keys)
        self.presets = dict(presets or {})
        # Parsed once per spelling (Options are immutable): a site asks for the same few
        # variants again and again, and each parse costs the event loop about 0.1 ms.
        self._parsed = functools.lru_cache(maxsize=OPTIONS_KEPT)(self._parse)
        self.unsigned = frozenset(canonical(self.parse(text)) for text in unsigned_options)
        self._listed = tuple(unsigned_options)
        self.clock = clock

    def parse(self, text: str) -> Options:
        """The options of a delivery URL, presets expanded; raises OptionError."""
        if len(text) > OPTIONS_KEPT_LENGTH:  # a long spelling is parsed, not kept
            return self._parse(text)
        return self._parsed(text)

    def _parse(self, text: str) -> Options:
        return parse_options(text, self.presets)

    @property
    def required(self) -> bool:
        """Whether signatures are asked for at all (FOCAL_URL_SIGNING_KEYS is set)."""
        return bool(self.keys)

    def source_query(self, target: RequestTarget) -> str:
        """The query that belongs to a remote source's URL: all of it without signing, the
        part before exp and sig with it."""
        return target.signed_parts()[0] if self.required else target.query

    def check(self, target: RequestTarget, options: Options, remote: bool) -> None:
        """Refuse (403) a request this server does not serve unsigned nor with this
        signature; refuse (400) a query where no source has one."""
        if not self.required:
            return
        query, expires, signature = target.signed_parts()
        # exp or sig alone is a signature half given (below), anything else a stray query
        stray = [item for item in query.split("&") if item.partition("=")[0] not in _SIGNED]
        if query and stray and not remote:
            raise FocalError(
                ErrorKind.BAD_OPTIONS,
                f"query parameters {'&'.join(stray)!r} are not allowed here: with signed URLs, "
                "the query is exp and sig, after a remote source's own query only",
            )
        if canonical(options) in self.unsigned:
            return
        if expires is None or signature is None:
            raise _not_signed(self._missing())
        self._verify(target, query, expires, signature)

    def _missing(self) -> str:
        allowed = "; ".join(self._listed)
        unsigned = f" Allowed without one: {allowed}." if allowed else ""
        return (
            "this image URL needs a signature: add ?exp=<unix time>&sig=<hex HMAC-SHA256 of "
            "the path and ?exp=...> made with a URL signing key (focal sign makes them)."
            + unsigned
        )

    def _verify(self, target: RequestTarget, query: str, expires: str, signature: str) -> None:
        if not _EXPIRES.fullmatch(expires):
            raise _not_signed(f"exp={expires!r} is not a unix time in whole seconds")
        try:
            path = target.raw_path.decode()
        except UnicodeDecodeError:
            raise _not_signed(
                "the signature of this URL is wrong: its path is not UTF-8 (send it "
                "percent-encoded, as it was signed)"
            ) from None
        signed_path = f"{path}?{query}" if query else path
        if not signature_matches(self.keys, signed_path, int(expires), signature):
            raise _not_signed(
                "the signature of this URL is wrong: it was not made for this path, query and "
                "exp with a current signing key"
            )
        if int(expires) < self.clock() // 1_000_000:
            when = datetime.fromtimestamp(int(expires), UTC).isoformat()
            raise _not_signed(f"this signed URL expired at {when}: sign it again")
