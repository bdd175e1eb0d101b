"""UrlAccess: what a signature covers, where the source's query ends, when a URL expires."""

from __future__ import annotations

import pytest

from focal.errors import ErrorKind, FocalError
from focal.options import parse_options
from focal.service.url_access import RequestTarget, UrlAccess
from focal.signing import url_signature

NOW = 1_800_000_000
PATH = "/cdn-cgi/image/width=50/rocket.jpg"


def access(**kwargs: object) -> UrlAccess:
    return UrlAccess(["k"], clock=lambda: NOW * 1_000_000, **kwargs)  # type: ignore[arg-type]


def target(path: str, query: str) -> RequestTarget:
    return RequestTarget(path.encode(), query)


@pytest.mark.parametrize(
    "query,parts",
    [
        ("", ("", None, None)),
        ("exp=5&sig=ab", ("", "5", "ab")),
        ("v=1&exp=5&sig=ab", ("v=1", "5", "ab")),
        ("exp=5&sig=ab&v=1", ("exp=5&sig=ab&v=1", None, None)),  # not last: the source's
        ("v=1&exp=2&exp=5&sig=ab", ("v=1&exp=2", "5", "ab")),
    ],
)
def test_exp_and_sig_are_the_last_two_parameters(
    query: str, parts: tuple[str, str | None, str | None]
) -> None:
    assert target(PATH, query).signed_parts() == parts


def test_a_url_is_valid_until_its_exp_second_included() -> None:
    options = parse_options("width=50")
    for expires in (NOW, NOW + 10**9):
        sig = url_signature("k", PATH, expires)
        access().check(target(PATH, f"exp={expires}&sig={sig}"), options, remote=False)
    sig = url_signature("k", PATH, NOW - 1)
    with pytest.raises(FocalError, match="expired at 2027-01-15T07:59:59") as caught:
        access().check(target(PATH, f"exp={NOW - 1}&sig={sig}"), options, remote=False)
    assert caught.value.kind is ErrorKind.URL_NOT_SIGNED
    assert (caught.value.code, caught.value.status) == (9401, 403)


def test_without_keys_nothing_is_checked_and_the_query_is_the_sources() -> None:
    open_access = UrlAccess([])
    anything = target(PATH, "v=1&exp=5&sig=ab")
    open_access.check(anything, parse_options("width=50"), remote=False)
    assert open_access.source_query(anything) == "v=1&exp=5&sig=ab"
    assert access().source_query(anything) == "v=1"


def test_a_path_that_is_not_utf8_cannot_match() -> None:
    raw = RequestTarget(b"/cdn-cgi/image/width=50/\xff.jpg", "exp=9999999999&sig=00")
    with pytest.raises(FocalError, match="not UTF-8"):
        access().check(raw, parse_options("width=50"), remote=False)


def test_unsigned_options_compare_by_canonical_form_presets_included() -> None:
    allowed = access(unsigned_options=["w=50", "preset=t"], presets={"t": "h=9,fit=cover"})
    for text in ("width=50", "fit=cover,height=9"):
        allowed.check(target(PATH, ""), parse_options(text, allowed.presets), remote=False)
    with pytest.raises(FocalError, match="needs a signature"):
        allowed.check(target(PATH, ""), parse_options("width=51"), remote=False)


def test_options_are_parsed_once_per_spelling() -> None:
    """A repeated spelling is the same Options; a long one and a wrong one are parsed anew."""
    long_name = "thumbnail" * 30
    checked = UrlAccess([], presets={"thumb": "width=80,fit=cover", long_name: "width=80"})
    assert checked.parse("preset=thumb,q=70") is checked.parse("preset=thumb,q=70")
    assert checked.parse("preset=thumb,q=70") == parse_options("width=80,fit=cover,q=70")
    long_spelling = f"preset={long_name}"
    assert checked.parse(long_spelling) is not checked.parse(long_spelling)
    for _ in range(2):
        with pytest.raises(FocalError, match="width"):
            checked.parse("width=wide")
