"""Signed `/cdn-cgi/image/<options>/<source>` URLs, made as the server checks them.

The server signs nothing itself: it checks the path exactly as sent (see
`focal.service.url_access`). So the URL is percent-encoded here once, in the form HTTP
clients send unchanged: the options and a local source are encoded as path text (a space is
%20, '?' %3F, '%' %25), a remote source's URL keeps its own query as given, and `exp` and
`sig` come last.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from focal.errors import ErrorKind, FocalError
from focal.signing import signed_url

_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 path characters, sent as they are
_QUERY_SAFE = _PATH_SAFE + "?%"  # a remote URL's query is sent as given, escapes included


def transformation_path(options: str, source: str) -> str:
    """`/cdn-cgi/image/<options>/<source>`, percent-encoded as a client sends it."""
    query = ""
    if source.lower().startswith(("http:/", "https:/")):
        source, mark, rest = source.partition("?")
        query = f"?{quote(rest, safe=_QUERY_SAFE)}" if mark else ""
    path = f"/cdn-cgi/image/{quote(options, safe=_PATH_SAFE.replace('/', ''))}/"
    return path + quote(source.lstrip("/"), safe=_PATH_SAFE) + query


def sign_transformation(
    key: str, options: str, source: str, expires_in: float, base_url: str = ""
) -> str:
    """A URL of the variant valid for `expires_in` seconds from now, signed with `key`."""
    if not key:
        raise FocalError(ErrorKind.BAD_REQUEST, "a signing key is needed to sign a URL")
    if expires_in <= 0:
        raise FocalError(ErrorKind.BAD_REQUEST, "expires_in must be more than 0 seconds")
    expires = int(time.time() + expires_in)
    return base_url.rstrip("/") + signed_url(key, transformation_path(options, source), expires)
