"""Metering over a real server: what counts as a unique transformation, the quota, /usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import RunningServer, read_photo
from focal import Images
from focal.catalog.times import from_micros, to_micros
from focal.catalog.usage import DAY_MICROS

Start = Callable[..., RunningServer]
TOKEN = "metering-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
OLD_SAFARI = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


class Clock:
    """A clock for metering that moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = to_micros(start)

    def __call__(self) -> int:
        return self.now

    def advance(self, days: int) -> None:
        self.now += days * DAY_MICROS

    @property
    def today(self) -> date:
        return from_micros(self.now).date()


def usage(server: RunningServer, **query: str) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/usage", params=query, headers=AUTH)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def counted(server: RunningServer) -> int:
    total: int = usage(server)["total"]["unique_transformations"]
    return total


@pytest.fixture
def server(start_server: Start) -> RunningServer:
    server = start_server(api_tokens=(TOKEN,), detector_warm_start=False)
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    return server


def get(server: RunningServer, options: str, **headers: str) -> httpx.Response:
    with server.client() as client:
        return client.get(server.image_url(options, "photo.jpg"), headers=headers)


def test_spellings_repeats_and_304s_count_once(server: RunningServer) -> None:
    first = get(server, "width=300,quality=70")
    assert first.status_code == 200
    assert get(server, "q=70,w=300").content == first.content  # the same variant
    again = get(server, "quality=70,width=300", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert counted(server) == 1
    assert get(server, "width=301,quality=70").status_code == 200
    assert counted(server) == 2


def test_format_auto_counts_once_whatever_each_browser_gets(server: RunningServer) -> None:
    chrome = get(server, "width=200,format=auto", Accept=CHROME)
    safari = get(server, "width=200,format=auto", Accept=OLD_SAFARI)
    assert chrome.headers["content-type"] == "image/avif"
    assert safari.headers["content-type"] == "image/jpeg"
    assert server.parts.delivery.transformations == 2  # two encodings made...
    assert counted(server) == 1  # ...of one unique transformation


def test_describing_is_free_and_failures_are_not_counted(server: RunningServer) -> None:
    assert get(server, "width=200,format=json").status_code == 200
    (server.origin / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with server.client() as client:
        assert client.get(server.image_url("width=200", "broken.jpg")).status_code == 415
    assert counted(server) == 0


def test_a_variant_counts_again_in_a_new_window(start_server: Start) -> None:
    clock = Clock(datetime(2026, 1, 10, 12, tzinfo=UTC))
    server = start_server(clock=clock, api_tokens=(TOKEN,), detector_warm_start=False)
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    first_day = clock.today
    first = get(server, "width=250")
    clock.advance(29)
    assert get(server, "width=250").content == first.content
    assert counted(server) == 1

    clock.advance(2)  # 31 days after the first count: from the cache, and counted again
    transformations = server.parts.delivery.transformations
    assert get(server, "width=250").content == first.content
    assert server.parts.delivery.transformations == transformations
    report = usage(server, **{"from": first_day.isoformat(), "to": clock.today.isoformat()})
    by_day = {day["date"]: day["unique_transformations"] for day in report["days"]}
    assert by_day[first_day.isoformat()] == 1
    assert by_day[clock.today.isoformat()] == 1
    assert report["total"]["unique_transformations"] == 2
    assert len(report["days"]) == 32


def test_past_the_quota_new_variants_get_429_and_made_ones_are_served(
    start_server: Start,
) -> None:
    # No result cache: variants already made are made again, and still not refused.
    server = start_server(
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        transformation_quota=2,
        result_cache_bytes=0,
    )
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    assert get(server, "width=100").status_code == 200
    assert get(server, "width=200").status_code == 200
    refused = get(server, "width=300")
    assert refused.status_code == 429
    assert refused.headers["cf-resized"] == "err=9422"
    assert "quota of 2 unique transformations per 30 days" in refused.text
    assert get(server, "width=300,onerror=redirect").status_code == 429  # no way around it
    assert get(server, "w=100").status_code == 200
    assert get(server, "width=200", Accept=CHROME).status_code == 200
    report = usage(server)
    assert report["total"]["unique_transformations"] == 2
    assert report["window"] == {"days": 30, "unique_transformations": 2, "quota": 2}


def test_usage_needs_a_token_and_valid_dates(server: RunningServer) -> None:
    with server.client() as client:
        assert client.get("/usage").status_code == 401
        wrong = client.get("/usage", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        bad = client.get("/usage", params={"from": "yesterday"}, headers=AUTH)
        assert bad.status_code == 400
        assert "YYYY-MM-DD" in bad.text
        backwards = client.get(
            "/usage", params={"from": "2026-02-02", "to": "2026-02-01"}, headers=AUTH
        )
        assert backwards.status_code == 400


def test_usage_reports_every_day_with_its_cost(start_server: Start) -> None:
    server = start_server(
        api_tokens=(TOKEN,), detector_warm_start=False, price_per_1000_transformations=2.0
    )
    (server.origin / "photo.jpg").write_bytes(read_photo("nature-1"))
    for width in (100, 200, 300):
        assert get(server, f"width={width}").status_code == 200
    report = usage(server)
    today = datetime.now(UTC).date()
    assert report["to"] == today.isoformat()
    assert report["from"] == (today - timedelta(days=29)).isoformat()
    assert len(report["days"]) == 30
    assert report["days"][-1] == {
        "date": today.isoformat(),
        "unique_transformations": 3,
        "deliveries": 0,
        "images_stored": 0,
        "stream_minutes_recorded": 0.0,
        "stream_minutes_delivered": 0.0,
        "cost": 0.006,
    }
    assert report["total"]["cost"] == 0.006
    assert report["price_per_1000_transformations"] == 2.0


def test_hosted_images_count_storage_deliveries_and_variants(server: RunningServer) -> None:
    with server.client() as client:
        uploaded = client.post(
            "/images/v1", headers=AUTH, files={"file": ("a.jpg", read_photo("nature-1"))}
        )
        image_id = uploaded.json()["result"]["id"]
        for _ in range(3):
            assert client.get(f"/images/{image_id}/public").status_code == 200
        today = usage(server)["days"][-1]
        assert (today["images_stored"], today["deliveries"]) == (1, 3)
        # Billed as stored and delivered, as the hosted product bills: no transformation.
        assert today["unique_transformations"] == 0

        assert client.delete(f"/images/v1/{image_id}", headers=AUTH).status_code == 200
        assert usage(server)["days"][-1]["images_stored"] == 0


def test_sdk_transformations_count_like_urls_and_info_is_free(server: RunningServer) -> None:
    photo = read_photo("chelsea")
    with Images(server.url, token=TOKEN) as images:
        for _ in range(2):  # a retry of the same chain
            images.input(photo).transform(width=120).output(format="image/webp").bytes()
        images.input(photo).transform(width=121).output(format="image/webp").bytes()
        images.info(photo)
    assert counted(server) == 2
