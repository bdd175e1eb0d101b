"""Signed URLs: a path that is valid until a time, proven by an HMAC of a secret key.

The hosted product's scheme: `<path>?exp=<unix time>&sig=<hex HMAC-SHA256 of "path?exp=...">`.
A path that carries a query of its own (a remote source's URL in `/cdn-cgi/image/`) keeps it,
and `exp` and `sig` are its last two parameters: the signed message is everything before
`&sig=`, `<path>?<query>&exp=<unix time>`.
Pure functions, shared by the server (which checks signatures) and the SDK (which makes them),
so that the two can never disagree on what is signed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping

from focal.errors import ErrorKind, FocalError


def signed_message(path: str, expires: int) -> str:
    """What a signature is over: `path?exp=<expires>`, or `path&exp=<expires>` when `path`
    has a query already (exp is then its last parameter)."""
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}exp={expires}"


def url_signature(key: str, path: str, expires: int) -> str:
    """Hex HMAC-SHA256 of `path?exp=<expires>` with `key`."""
    message = signed_message(path, expires).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_url(key: str, path: str, expires: int) -> str:
    """`path` with its expiry and signature: `<path>?exp=<expires>&sig=<signature>`."""
    return f"{signed_message(path, expires)}&sig={url_signature(key, path, expires)}"


def signature_matches(keys: Iterable[str], path: str, expires: int, signature: str) -> bool:
    """Whether `signature` was made for `path` and `expires` by one of `keys`.

    Compared in constant time, so a guess learns nothing from how long a refusal took.
    """
    given = signature.lower()
    return any(hmac.compare_digest(url_signature(key, path, expires), given) for key in keys)


def verified_expiry(
    path: str, query: Mapping[str, str], keys: Callable[[], Iterable[str]], what: str
) -> int:
    """The expiry of a URL signed with `exp` and `sig` for `path`, checked against the
    signing keys (read only for a signature that could hold); else a 403 naming `what`."""
    expires_text, signature = query.get("exp"), query.get("sig")
    if not expires_text or not signature:
        raise FocalError(
            ErrorKind.ACCESS_DENIED,
            f"this {what} needs a signature (it requires signed URLs): add ?exp=<unix time>"
            "&sig=<hex HMAC-SHA256 of the path and ?exp=...> made with a signing key",
        )
    try:
        expires = int(expires_text)
    except ValueError:
        raise FocalError(ErrorKind.ACCESS_DENIED, "exp must be a unix time in seconds") from None
    if expires < time.time():
        raise FocalError(ErrorKind.ACCESS_DENIED, f"this {what} expired; ask for a new one")
    if not signature_matches(keys(), path, expires, signature):
        raise FocalError(ErrorKind.ACCESS_DENIED, f"the signature of this {what} is wrong")
    return expires
