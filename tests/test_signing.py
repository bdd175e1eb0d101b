"""Signed URLs: the one scheme the server checks and the SDK makes."""

from __future__ import annotations

import hashlib
import hmac

from focal.signing import signature_matches, signed_url, url_signature


def _reference(key: str, path: str, expires: int) -> str:
    """The hosted product's documented scheme, written out independently."""
    message = f"{path}?exp={expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_the_signature_is_the_hmac_of_the_path_and_expiry() -> None:
    assert url_signature("k1", "/images/a/public", 1_700_000_000) == _reference(
        "k1", "/images/a/public", 1_700_000_000
    )
    assert url_signature("k1", "/images/a/public", 1) != url_signature("k1", "/images/a/public", 2)
    assert url_signature("k1", "/images/a/public", 1) != url_signature("k2", "/images/a/public", 1)


def test_a_signed_url_carries_its_expiry_and_signature() -> None:
    sig = _reference("secret", "/upload/x", 42)
    assert signed_url("secret", "/upload/x", 42) == f"/upload/x?exp=42&sig={sig}"


def test_any_current_key_verifies_and_case_does_not_matter() -> None:
    sig = url_signature("old", "/images/a/thumb", 99)
    assert signature_matches(["new", "old"], "/images/a/thumb", 99, sig)
    assert signature_matches(["old"], "/images/a/thumb", 99, sig.upper())
    assert not signature_matches(["new"], "/images/a/thumb", 99, sig)
    assert not signature_matches(["old"], "/images/a/thumb", 100, sig)
    assert not signature_matches(["old"], "/images/b/thumb", 99, sig)
    assert not signature_matches([], "/images/a/thumb", 99, sig)


def test_a_path_with_a_query_keeps_it_and_exp_and_sig_come_last() -> None:
    path = "/cdn-cgi/image/w=1/https://example.com/a.jpg?v=1"
    message = f"{path}&exp=7".encode()
    expected = hmac.new(b"k", message, hashlib.sha256).hexdigest()
    assert url_signature("k", path, 7) == expected
    assert signed_url("k", path, 7) == f"{path}&exp=7&sig={expected}"
    assert not signature_matches(["k"], path.replace("v=1", "v=2"), 7, expected)
