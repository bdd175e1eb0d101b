"""Blob keys: '/'-separated paths that mean the same thing in a folder and in a bucket.

The rules are those of the strictest backend, so that a key valid in one store is valid in
all of them: a local file name can't be empty, '.' or '..', or longer than 255 bytes, and an
S3 key is at most 1024 bytes of UTF-8.
"""

from __future__ import annotations

MAX_KEY_BYTES = 1024
# A local file name is at most 255 bytes, and fewer on some file systems.
MAX_SEGMENT_BYTES = 200
# Segments that start with this are the local store's temporary files, never blobs.
TEMPORARY_MARK = ".focal-tmp-"
# Blobs under this prefix are readiness probes (server/readiness.py), written and deleted at
# once; no image key starts with it (theirs start with "images/").
HEALTH_PREFIX = "health/"


def _problem(key: str) -> str | None:
    if not isinstance(key, str):
        return "not a string"
    if not key:
        return "empty"
    if "\x00" in key:
        return "contains NUL"
    if not key.isprintable():
        return "contains an unprintable character"
    if len(key.encode()) > MAX_KEY_BYTES:
        return f"longer than {MAX_KEY_BYTES} bytes"
    if key.startswith("/"):
        return "starts with '/'"
    for segment in key.split("/"):
        if not segment:
            return "has an empty path segment"
        if segment in (".", ".."):
            return f"has a {segment!r} path segment"
        if segment.startswith(TEMPORARY_MARK):
            return f"has a segment starting with the reserved {TEMPORARY_MARK!r}"
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"has a path segment longer than {MAX_SEGMENT_BYTES} bytes"
    return None


def validate_key(key: str) -> str:
    """The key itself, or ValueError saying what is wrong with it."""
    problem = _problem(key)
    if problem is not None:
        raise ValueError(f"invalid blob key {key!r}: {problem}")
    return key


def validate_prefix(prefix: str) -> str:
    """A key, or a key followed by '/'. Never empty, so no call can delete every blob."""
    problem = _problem(prefix[:-1] if isinstance(prefix, str) and prefix.endswith("/") else prefix)
    if problem is not None:
        raise ValueError(f"invalid blob key prefix {prefix!r}: {problem}")
    return prefix


def is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_MARK)
