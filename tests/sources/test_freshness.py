"""How long a remote original's fingerprint is reused: Cache-Control, then the default."""

from __future__ import annotations

import pytest

from focal.sources.freshness import FreshSources, freshness_seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 300.0),
        ("", 300.0),
        ("public, max-age=60", 60.0),
        ("max-age=60, s-maxage=600", 600.0),
        ('max-age="120"', 120.0),
        ("Max-Age=30", 30.0),
        ("max-age=0", 0.0),
        ("max-age=-5", 0.0),
        ("max-age=soon", 0.0),
        ("no-cache", 0.0),
        ("max-age=600, no-store", 0.0),
        ("private, max-age=600", 0.0),
        ("immutable", 300.0),
    ],
)
def test_freshness_follows_cache_control(header: str | None, seconds: float) -> None:
    assert freshness_seconds(header, default=300.0) == seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ETAG = {"If-None-Match": '"v1"'}


def test_a_fingerprint_is_fresh_until_its_time_runs_out() -> None:
    clock = Clock()
    fresh = FreshSources(clock=clock)
    fresh.put("https://a/x.jpg", "print-1", 60, ETAG)
    assert fresh.fresh("https://a/x.jpg") == "print-1"
    clock.now += 59.9
    assert fresh.fresh("https://a/x.jpg") == "print-1"
    clock.now += 0.1
    assert fresh.fresh("https://a/x.jpg") is None
    stale = fresh.known("https://a/x.jpg")  # still there, to be revalidated
    assert stale is not None and (stale.fingerprint, stale.validators) == ("print-1", ETAG)


def test_without_validators_a_stale_answer_is_forgotten() -> None:
    fresh = FreshSources(clock=Clock())
    fresh.put("https://a/x.jpg", "print-1", 0, ETAG)  # no-cache: ask every time, cheaply
    assert fresh.fresh("https://a/x.jpg") is None
    assert fresh.known("https://a/x.jpg") is not None
    fresh.put("https://a/x.jpg", "print-2", 0, {})  # nothing to ask with: nothing kept
    assert fresh.known("https://a/x.jpg") is None


def test_the_least_recently_used_url_goes_first() -> None:
    fresh = FreshSources(capacity=2, clock=Clock())
    fresh.put("a", "1", 60, {})
    fresh.put("b", "2", 60, {})
    assert fresh.fresh("a") == "1"
    fresh.put("c", "3", 60, {})
    assert (fresh.fresh("a"), fresh.fresh("b"), fresh.fresh("c")) == ("1", None, "3")
