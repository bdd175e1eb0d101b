"""Hosted images behave as the hosted product's, over HTTP: negotiated formats, variants that
keep every option, billing as stored and delivered, browser uploads (CORS), flexible variants
switched in the catalog, and custom ids that can't be private."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from conftest import RunningServer, read_photo
from hosted_http import AUTH, TOKEN, Start, ok, size_of, upload

PAGE = "https://app.example"


@pytest.fixture
def server(start_server: Start) -> RunningServer:
    return start_server(api_tokens=(TOKEN,), detector_warm_start=False)


def refused(response: httpx.Response, status: int, code: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False and body["errors"][0]["code"] == code, body
    return body["errors"][0]["message"]


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# --- 1. format negotiation ---------------------------------------------------------------


def test_hosted_delivery_negotiates_the_format_from_accept(server: RunningServer) -> None:
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        path = f"/images/{image_id}/public"
        avif = client.get(path, headers={"Accept": "image/avif,image/webp,*/*"})
        assert avif.status_code == 200 and media_type(avif) == "image/avif"
        assert "accept" in avif.headers["vary"].lower()
        webp = client.get(path, headers={"Accept": "image/webp,*/*"})
        assert media_type(webp) == "image/webp"
        assert media_type(client.get(path, headers={"Accept": "*/*"})) == "image/jpeg"
        full = client.get(
            f"/cdn-cgi/imagedelivery/acct/{image_id}/public", headers={"Accept": "image/avif"}
        )
        assert media_type(full) == "image/avif"


def test_a_variant_may_pin_its_format(server: RunningServer) -> None:
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        pinned = {"id": "png", "options": {"width": 50, "format": "png"}}
        ok(client.post("/images/v1/variants", headers=AUTH, json=pinned))
        got = client.get(f"/images/{image_id}/png", headers={"Accept": "image/avif,image/webp"})
        assert got.status_code == 200 and media_type(got) == "image/png"


# --- 2. variants keep every URL option ----------------------------------------------------


def test_a_variant_keeps_every_option_it_is_given(server: RunningServer) -> None:
    options = {
        "fit": "cover",
        "width": 80,
        "height": 80,
        "gravity": "face",
        "quality": 60,
        "format": "webp",
        "sharpen": 1,
        "browser_ttl": 120,
    }
    with server.client() as client:
        image_id = ok(upload(client, read_photo("multi_face")))["id"]
        created = ok(
            client.post(
                "/images/v1/variants", headers=AUTH, json={"id": "face", "options": options}
            )
        )
        shown = created["variant"]["options"]
        assert shown == {**options, "metadata": "none"}
        assert (
            ok(client.get("/images/v1/variants/face", headers=AUTH))["variant"]["options"] == shown
        )
        got = client.get(f"/images/{image_id}/face")
        assert got.status_code == 200, got.text
        assert media_type(got) == "image/webp" and size_of(got) == (80, 80)
        assert got.headers["focal-gravity"].startswith("face")
        assert "max-age=120" in got.headers["cache-control"]
        # A variant without its own TTL has the server's.
        ok(client.patch("/images/v1/variants/face", headers=AUTH, json={"options": {"width": 40}}))
        default_ttl = client.get(f"/images/{image_id}/face").headers["cache-control"]
        assert f"max-age={server.settings.browser_ttl}" in default_ttl


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"bogus": 1}, "'options.bogus'"),
        ({"quality": 0}, "'options.quality'"),
        ({"gravity": "elsewhere"}, "'options.gravity'"),
        ({"format": "bmp"}, "'options.format'"),
        ({"browser_ttl": -1}, "'options.browser_ttl'"),
        ({"width": 10, "w": 20}, "given twice"),
    ],
)
def test_a_bad_variant_option_is_named_never_dropped(
    server: RunningServer, options: dict[str, object], field: str
) -> None:
    with server.client() as client:
        body = {"id": "bad", "options": options}
        message = refused(client.post("/images/v1/variants", headers=AUTH, json=body), 400, 9424)
        assert field in message
        assert ok(client.get("/images/v1/variants", headers=AUTH))["variants"].keys() == {"public"}


# --- 3. billing as the product bills ------------------------------------------------------


def test_the_transformation_quota_never_refuses_a_hosted_delivery(start_server: Start) -> None:
    server = start_server(
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        transformation_quota=1,
        flexible_variants=True,
    )
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        for width in (10, 20, 30, 40):
            assert client.get(f"/images/{image_id}/width={width}").status_code == 200
        assert client.get(f"/images/{image_id}/public").status_code == 200
        (server.origin / "cat.jpg").write_bytes(read_photo("chelsea"))
        assert client.get("/cdn-cgi/image/width=10/cat.jpg").status_code == 200
        assert client.get("/cdn-cgi/image/width=20/cat.jpg").status_code == 429  # URLs are metered
        report = client.get("/usage", headers=AUTH).json()
        assert report["total"]["unique_transformations"] == 1
        assert report["total"]["deliveries"] == 5


def test_quotas_on_images_stored_and_deliveries_per_month(start_server: Start) -> None:
    server = start_server(
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        hosted_images_quota=1,
        hosted_deliveries_quota=2,
    )
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        message = refused(upload(client, read_photo("chelsea")), 429, 9422)
        assert "FOCAL_HOSTED_IMAGES_QUOTA" in message
        refused(client.post("/images/v2/direct_upload", headers=AUTH), 429, 9422)
        for _ in range(2):
            assert client.get(f"/images/{image_id}/public").status_code == 200
        over = client.get(f"/images/{image_id}/public")
        assert over.status_code == 429 and "FOCAL_HOSTED_DELIVERIES_QUOTA" in over.text
        hosted = client.get("/usage", headers=AUTH).json()["hosted"]
        assert hosted["images_stored"] == 1 and hosted["images_quota"] == 1
        assert hosted["deliveries_this_month"] == 2 and hosted["deliveries_quota"] == 2
        ok(client.delete(f"/images/v1/{image_id}", headers=AUTH))
        ok(upload(client, read_photo("chelsea")))  # room again


# --- 4. direct creator upload from a browser ------------------------------------------------


def _upload_url(client: httpx.Client, **fields: object) -> str:
    created = ok(client.post("/images/v2/direct_upload", headers=AUTH, json=fields))
    return httpx.URL(created["uploadURL"]).raw_path.decode()


def test_a_page_on_another_origin_can_post_the_upload_url(server: RunningServer) -> None:
    with server.client() as client:
        target = _upload_url(client)
        preflight = client.options(
            target,
            headers={
                "Origin": PAGE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        posted = client.post(
            target, headers={"Origin": PAGE}, files={"file": ("me.jpg", read_photo("chelsea"))}
        )
        assert posted.status_code == 200 and posted.headers["access-control-allow-origin"] == "*"
        # The token-protected API gets no CORS unless configured.
        api = client.options(
            "/images/v1", headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in api.headers
        listed = client.get("/images/v1", headers={**AUTH, "Origin": PAGE})
        assert "access-control-allow-origin" not in listed.headers


def test_allowed_origins_are_configurable(start_server: Start) -> None:
    admin = "https://admin.example"
    server = start_server(
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        upload_cors_origins=(PAGE,),
        api_cors_origins=(admin,),
    )
    with server.client() as client:
        target = _upload_url(client)
        ask = {"Access-Control-Request-Method": "POST"}
        mine = client.options(target, headers={"Origin": PAGE, **ask})
        assert mine.headers["access-control-allow-origin"] == PAGE
        other = client.options(target, headers={"Origin": "https://evil.example", **ask})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        api = client.options("/images/v1", headers={"Origin": admin, **ask})
        assert api.status_code == 200 and api.headers["access-control-allow-origin"] == admin
        listed = client.get("/images/v1", headers={**AUTH, "Origin": admin})
        assert listed.headers["access-control-allow-origin"] == admin


def _rfc3339(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def test_expiry_takes_an_rfc3339_date_time(server: RunningServer) -> None:
    with server.client() as client:
        direct = "/images/v2/direct_upload"
        in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).astimezone(
            timezone(timedelta(hours=2))
        )
        for form in (
            _rfc3339(timedelta(minutes=30)),
            in_an_hour.replace(microsecond=0).isoformat(),
        ):
            assert client.post(direct, headers=AUTH, data={"expiry": form}).status_code == 200
            assert client.post(direct, headers=AUTH, json={"expiry": form}).status_code == 200
        for bad in (timedelta(minutes=1), timedelta(hours=7), timedelta(minutes=-5)):
            message = refused(
                client.post(direct, headers=AUTH, json={"expiry": _rfc3339(bad)}), 400, 9424
            )
            assert "2 minutes" in message
        message = refused(client.post(direct, headers=AUTH, json={"expiry": "tomorrow"}), 400, 9424)
        assert "RFC 3339" in message
        no_offset = client.post(direct, headers=AUTH, data={"expiry": "2030-01-01T00:00:00"})
        refused(no_offset, 400, 9424)


def test_a_json_body_is_read_or_refused(server: RunningServer) -> None:
    with server.client() as client:
        created = ok(
            client.post(
                "/images/v2/direct_upload",
                headers=AUTH,
                json={"id": "avatar", "metadata": {"user": 7}, "expiry": 600},
            )
        )
        assert created["id"] == "avatar"
        draft = ok(client.get("/images/v1/avatar", headers=AUTH))
        assert draft["draft"] is True and draft["metadata"] == {"user": 7}
        bad = client.post("/images/v2/direct_upload", headers=AUTH, json={"expiry": True})
        assert "'expiry" in refused(bad, 400, 9424)
        xml = client.post(
            "/images/v2/direct_upload",
            headers={**AUTH, "Content-Type": "application/xml"},
            content=b"<expiry>600</expiry>",
        )
        assert "application/json" in refused(xml, 415, 9424)


# --- 5. flexible variants switched in the catalog -----------------------------------------


def test_flexible_variants_are_switched_with_the_config_api(server: RunningServer) -> None:
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        assert ok(client.get("/images/v1/config", headers=AUTH)) == {"flexible_variants": False}
        off = client.get(f"/images/{image_id}/width=40")
        assert off.status_code == 403
        assert "PATCH /images/v1/config" in off.text
        switched = client.patch("/images/v1/config", headers=AUTH, json={"flexible_variants": True})
        assert ok(switched) == {"flexible_variants": True}
        on = client.get(f"/images/{image_id}/width=40")
        assert on.status_code == 200 and size_of(on)[0] == 40
        assert ok(client.get("/images/v1/config", headers=AUTH)) == {"flexible_variants": True}
        refused(client.patch("/images/v1/config", headers=AUTH, json={"flexible": True}), 400, 9424)
    # Kept in the catalog: what every server and the next start read.
    assert server.parts.hosted_catalog.hosted_settings() == {"flexible_variants": True}


def test_flexible_variants_off_answers_the_products_code(server: RunningServer) -> None:
    with server.client() as client:
        image_id = ok(upload(client, read_photo("chelsea")))["id"]
        off = client.get(f"/cdn-cgi/imagedelivery/acct/{image_id}/width=40")
        assert off.status_code == 403
        assert off.headers["cf-resized"] == "err=9429"


# --- 6. a custom id can't be private ------------------------------------------------------


def test_a_custom_id_with_signed_urls_is_refused(server: RunningServer) -> None:
    with server.client() as client:
        photo = read_photo("chelsea")
        message = refused(upload(client, photo, id="cats/one", requireSignedURLs="true"), 400, 9424)
        assert "custom id" in message
        refused(
            client.post(
                "/images/v2/direct_upload",
                headers=AUTH,
                json={"id": "cats/two", "requireSignedURLs": True},
            ),
            400,
            9424,
        )
        assert ok(client.get("/images/v1", headers=AUTH))["images"] == []
        private = ok(upload(client, photo, requireSignedURLs="true"))
        assert private["requireSignedURLs"] is True
        assert ok(upload(client, photo, id="cats/three"))["id"] == "cats/three"
