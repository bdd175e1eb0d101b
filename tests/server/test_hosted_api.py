"""Hosted images over HTTP: upload, read, variants, delivery, signed URLs, direct uploads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pyvips
from sqlalchemy import update

from conftest import RunningServer, read_photo
from focal.catalog.schema import images
from focal.catalog.times import to_micros
from focal.json_input import MAX_JSON_DEPTH
from hosted_http import AUTH, TOKEN, Start, failed, ok, size_of, upload


@pytest.fixture
def server(start_server: Start) -> RunningServer:
    return start_server(api_tokens=(TOKEN,), detector_warm_start=False)


def stats(client: httpx.Client) -> tuple[int, int]:
    result = ok(client.get("/images/v1/stats", headers=AUTH))
    return result["count"]["current"], result["bytes"]["current"]


def test_upload_read_list_patch_delete(server: RunningServer) -> None:
    photo = read_photo("grace_hopper")
    with server.client() as client:
        result = ok(upload(client, photo, id="people/grace", metadata='{"team": "navy"}'))
        assert result["id"] == "people/grace"
        assert result["metadata"] == {"team": "navy"}
        assert result["requireSignedURLs"] is False
        assert (result["width"], result["height"]) == (512, 600)
        assert any(url.endswith("/images/people/grace/public") for url in result["variants"])
        assert client.get("/images/v1/people/grace/blob", headers=AUTH).content == photo
        assert ok(client.get("/images/v1/people/grace", headers=AUTH))["id"] == "people/grace"
        assert [i["id"] for i in ok(client.get("/images/v1", headers=AUTH))["images"]] == [
            "people/grace"
        ]
        assert stats(client) == (1, len(photo))
        patched = ok(
            client.patch(
                "/images/v1/people/grace",
                headers=AUTH,
                json={"metadata": {"team": "science"}, "requireSignedURLs": True},
            )
        )
        assert patched["metadata"] == {"team": "science"} and patched["requireSignedURLs"]
        assert ok(client.delete("/images/v1/people/grace", headers=AUTH)) == {}
        failed(client.get("/images/v1/people/grace", headers=AUTH), 404)
        failed(client.get("/images/v1/people/grace/blob", headers=AUTH), 404)
        assert client.get("/images/people/grace/public").status_code == 404
        assert stats(client) == (0, 0)


def test_upload_from_a_url(start_server: Start) -> None:
    origin = start_server(detector_warm_start=False)
    (origin.origin / "cat.png").write_bytes(read_photo("chelsea"))
    server = start_server(
        api_tokens=(TOKEN,),
        detector_warm_start=False,
        allowed_origins=(origin.url,),
        allow_private_networks=True,
    )
    with server.client() as client:
        response = client.post(
            "/images/v1", headers=AUTH, data={"url": f"{origin.url}/originals/cat.png"}
        )
        result = ok(response)
        blob = client.get(f"/images/v1/{result['id']}/blob", headers=AUTH)
    assert blob.content == read_photo("chelsea")


def test_v2_listing_walks_every_image_once(server: RunningServer) -> None:
    tiny = pyvips.Image.black(8, 8).pngsave_buffer()
    with server.client() as client:
        for index in range(25):
            ok(upload(client, tiny, id=f"img-{index:02d}"))
        for order in ("asc", "desc"):
            seen: list[str] = []
            token = None
            while True:
                params = {"per_page": 10, "sort_order": order}
                if token:
                    params["continuation_token"] = token
                result = ok(client.get("/images/v2", headers=AUTH, params=params))
                seen += [image["id"] for image in result["images"]]
                token = result["continuation_token"]
                if not token:
                    break
            assert sorted(seen) == [f"img-{i:02d}" for i in range(25)]
            assert len(seen) == 25


def test_named_variants_and_delivery(server: RunningServer) -> None:
    with server.client() as client:
        ok(upload(client, read_photo("multi_face"), id="group"))
        variant = {"id": "thumb", "options": {"fit": "cover", "width": 120, "height": 80}}
        ok(client.post("/images/v1/variants", headers=AUTH, json=variant))
        assert "thumb" in ok(client.get("/images/v1/variants", headers=AUTH))["variants"]
        thumb = client.get("/images/group/thumb")
        assert thumb.status_code == 200 and size_of(thumb) == (120, 80)
        assert "max-age=172800" in thumb.headers["cache-control"]
        assert "stale-while-revalidate=7200" in thumb.headers["cache-control"]
        same = client.get("/cdn-cgi/imagedelivery/acc0unt/group/thumb")
        assert same.content == thumb.content
        again = client.get("/images/group/thumb", headers={"If-None-Match": thumb.headers["etag"]})
        assert again.status_code == 304
        changed = {"options": {"fit": "scale-down", "width": 50}}
        ok(client.patch("/images/v1/variants/thumb", headers=AUTH, json=changed))
        assert size_of(client.get("/images/group/thumb"))[0] == 50
        ok(client.delete("/images/v1/variants/thumb", headers=AUTH))
        assert client.get("/images/group/thumb").status_code == 404
        assert client.get("/images/group/public").status_code == 200


def test_flexible_variants_only_when_switched_on(start_server: Start) -> None:
    off = start_server(api_tokens=(TOKEN,), detector_warm_start=False)
    on = start_server(api_tokens=(TOKEN,), detector_warm_start=False, flexible_variants=True)
    private: dict[int, str] = {}
    for server in (off, on):
        with server.client() as client:
            ok(upload(client, read_photo("multi_face"), id="group"))
            signed = ok(upload(client, read_photo("multi_face"), requireSignedURLs="true"))
            private[id(server)] = signed["id"]
    with off.client() as client:
        assert client.get("/images/group/w=100").status_code == 403
    with on.client() as client:
        flexible = client.get("/images/group/w=100,h=100,fit=cover,gravity=face")
        assert flexible.status_code == 200 and size_of(flexible) == (100, 100)
        assert flexible.headers["focal-gravity"].startswith("face; faces=5")
        assert client.get(f"/images/{private[id(on)]}/w=100").status_code == 403


def _signed(path: str, key: str, expires: int) -> str:
    sig = hmac.new(key.encode(), f"{path}?exp={expires}".encode(), hashlib.sha256).hexdigest()
    return f"{path}?exp={expires}&sig={sig}"


def test_signed_urls(server: RunningServer) -> None:
    with server.client() as client:
        secret = ok(upload(client, read_photo("single_face"), requireSignedURLs="true"))["id"]
        keys = ok(client.get("/images/v1/keys", headers=AUTH))["keys"]
        key = keys[0]["value"]  # newest first
        path = f"/images/{secret}/public"
        later = int(time.time()) + 600
        assert "signature" in client.get(path).text
        assert client.get(path).status_code == 403
        good = client.get(_signed(path, key, later))
        assert good.status_code == 200 and good.headers["cache-control"].startswith("private")
        tampered = _signed(path, key, later).replace(f"exp={later}", f"exp={later + 1}")
        assert client.get(tampered).status_code == 403
        assert client.get(_signed(path, "not-the-key", later)).status_code == 403
        expired = client.get(_signed(path, key, int(time.time()) - 5))
        assert expired.status_code == 403 and "expired" in expired.text
        # Rotation: the previous key stays valid for one rotation, then stops.
        ok(client.put("/images/v1/keys/rotate", headers=AUTH))
        assert client.get(_signed(path, key, later)).status_code == 200
        ok(client.put("/images/v1/keys/rotate", headers=AUTH))
        assert client.get(_signed(path, key, later)).status_code == 403
        newest = ok(client.get("/images/v1/keys", headers=AUTH))["keys"][0]["value"]
        assert client.get(_signed(path, newest, later)).status_code == 200
        # A variant marked always public needs no signature.
        public = {"id": "open", "options": {"width": 40}, "neverRequireSignedURLs": True}
        ok(client.post("/images/v1/variants", headers=AUTH, json=public))
        assert client.get(f"/images/{secret}/open").status_code == 200


def test_direct_creator_upload(server: RunningServer) -> None:
    photo = read_photo("single_face")
    with server.client() as client:
        created = ok(
            client.post(
                "/images/v2/direct_upload",
                headers=AUTH,
                data={"id": "avatar", "metadata": '{"user": 7}', "expiry": "600"},
            )
        )
        assert created["id"] == "avatar"
        url = httpx.URL(created["uploadURL"])
        assert client.get("/images/avatar/public").status_code == 404  # a draft is not served
        listed = ok(client.get("/images/v1", headers=AUTH))["images"]
        assert all(image["id"] != "avatar" for image in listed)
        target = url.raw_path.decode()
        first = client.post(target, files={"file": ("me.jpg", photo)})
        assert ok(first)["id"] == "avatar"
        assert client.get("/images/v1/avatar/blob", headers=AUTH).content == photo
        assert client.get("/images/avatar/public").status_code == 200
        second = client.post(target, files={"file": ("me.jpg", read_photo("chelsea"))})
        assert second.status_code in (403, 404, 409)
        assert client.get("/images/v1/avatar/blob", headers=AUTH).content == photo
        forged = target.replace("sig=", "sig=0")
        assert client.post(forged, files={"file": ("x.jpg", photo)}).status_code == 403
        too_short = client.post("/images/v2/direct_upload", headers=AUTH, data={"expiry": "60"})
        failed(too_short, 400)


def test_expired_direct_upload_is_refused(server: RunningServer) -> None:
    with server.client() as client:
        created = ok(client.post("/images/v2/direct_upload", headers=AUTH, data={"id": "late"}))
        catalog = server.parts.hosted_catalog
        past = to_micros(datetime.now(UTC) - timedelta(seconds=1))
        with catalog.engine.begin() as connection:  # the clock moved past the expiry
            connection.execute(
                update(images).where(images.c.id == "late").values(upload_expires=past)
            )
        target = httpx.URL(created["uploadURL"]).raw_path.decode()
        late = client.post(target, files={"file": ("me.jpg", read_photo("single_face"))})
        assert "expired" in failed(late, 403)
        assert client.get("/images/late/public").status_code == 404


def test_tokens(server: RunningServer) -> None:
    with server.client() as client:
        assert client.get("/images/v1").status_code == 401
        assert client.get("/images/v1", headers={"Authorization": "Bearer nope"}).status_code == 403
        catalog = server.parts.hosted_catalog
        token_id, secret = catalog.create_token("ci")
        mine = {"Authorization": f"Bearer {secret}"}
        assert client.get("/images/v1", headers=mine).status_code == 200
        catalog.revoke_token(token_id)
        assert client.get("/images/v1", headers=mine).status_code == 403


def test_bad_uploads_change_nothing(server: RunningServer) -> None:
    with server.client() as client:
        ok(upload(client, read_photo("rocket"), id="kept"))
        before = stats(client)
        assert "image" in failed(upload(client, b"just text, not an image"), 415)
        grey = pyvips.Image.gaussnoise(2200, 2200, mean=128, sigma=60).cast("uchar")
        too_big = grey.bandjoin([grey, grey]).pngsave_buffer(compression=0)
        assert len(too_big) > 10 * 1024 * 1024
        failed(upload(client, too_big), 413)
        failed(upload(client, read_photo("rocket"), metadata=json.dumps({"x": "y" * 2000})), 400)
        failed(upload(client, read_photo("rocket"), metadata="{not json"), 400)
        failed(upload(client, read_photo("rocket"), id="../escape"), 400)
        failed(upload(client, read_photo("chelsea"), id="kept"), 409)
        assert client.get("/images/v1/kept/blob", headers=AUTH).content == read_photo("rocket")
        failed(client.post("/images/v1", headers=AUTH, data={"id": "x"}), 400)
        failed(client.get("/images/v1/nothing-here", headers=AUTH), 404)
        assert stats(client) == before


def test_fifty_concurrent_uploads_land_intact(server: RunningServer) -> None:
    def one(index: int) -> tuple[str, bytes]:
        image = (pyvips.Image.black(32, 32, bands=3) + [index * 5, 255 - index * 5, 7]).cast(
            "uchar"
        )
        data = image.pngsave_buffer()
        with server.client() as client:
            return ok(upload(client, data, id=f"c{index}"))["id"], data

    with ThreadPoolExecutor(16) as pool:
        uploaded = list(pool.map(one, range(50)))
    with server.client() as client:
        for image_id, data in uploaded:
            assert client.get(f"/images/v1/{image_id}/blob", headers=AUTH).content == data
        assert stats(client)[0] == 50


# --- what clients send is bounded and typed ----------------------------------------------


def _nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def _token(document: object) -> str:
    raw = json.dumps(document).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_deeply_nested_json_is_a_400_naming_the_limit(server: RunningServer) -> None:
    limit = f"more than {MAX_JSON_DEPTH} deep"
    tiny = pyvips.Image.black(8, 8).pngsave_buffer()
    with server.client() as client:
        ok(upload(client, tiny, id="kept"))
        deep_metadata = '{"a": ' + _nested_list(509) + "}"  # 1,024 bytes: within the limit
        assert limit in failed(upload(client, tiny, metadata=deep_metadata), 400)
        deep_body = '{"metadata": {"a": ' + _nested_list(5000) + "}}"
        patch = client.patch("/images/v1/kept", headers=AUTH, content=deep_body)
        assert limit in failed(patch, 400)
        variant = '{"id": "v", "options": ' + _nested_list(5000) + "}"
        assert limit in failed(
            client.post("/images/v1/variants", headers=AUTH, content=variant), 400
        )
        token = _token(["desc", 1, "x", *json.loads(_nested_list(50))])
        params = {"continuation_token": token, "per_page": 10}
        assert limit in failed(client.get("/images/v2", headers=AUTH, params=params), 400)
        assert ok(client.get("/images/v1/kept", headers=AUTH))["metadata"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "v", "options": [1]}, "'options'"),
        ({"id": "v", "options": {"width": True}}, "'options.width'"),  # true is not 1
        ({"id": "v", "options": {"width": 1.5}}, "'options.width'"),
        ({"id": "v", "options": {"width": "100"}}, "'options.width'"),
        ({"id": "v", "options": {"fit": 3}}, "'options.fit'"),
        ({"id": "v", "options": {"fit": "stretch"}}, "'options.fit'"),
        ({"id": "v", "options": {"width": 0}}, "'options.width'"),
        ({"id": "v", "options": {"height": 12_001}}, "'options.height'"),
        ({"id": "v", "options": {"metadata": "all"}}, "'options.metadata'"),
        ({"id": "v", "options": {"metadata": ["keep"]}}, "'options.metadata'"),
        ({"id": "v", "options": {"widht": 100}}, "'options.widht'"),
        ({"id": 7, "options": {}}, "'id'"),
        ({"id": "v", "neverRequireSignedURLs": "yes"}, "'neverRequireSignedURLs'"),
        ([1], "JSON object"),
    ],
)
def test_variant_bodies_are_checked_field_by_field(
    server: RunningServer, body: object, field: str
) -> None:
    with server.client() as client:
        message = failed(client.post("/images/v1/variants", headers=AUTH, json=body), 400)
        assert field in message
        assert ok(client.get("/images/v1/variants", headers=AUTH))["variants"].keys() == {"public"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metadata": [1]}, "'metadata'"),
        ({"requireSignedURLs": 1}, "'requireSignedURLs'"),
        ({"requireSignedURLs": "true"}, "'requireSignedURLs'"),
        ({"metdata": {}}, "'metdata'"),
        ("just a string", "JSON object"),
    ],
)
def test_patch_bodies_are_checked_field_by_field(
    server: RunningServer, body: object, field: str
) -> None:
    with server.client() as client:
        ok(upload(client, pyvips.Image.black(8, 8).pngsave_buffer(), id="kept"))
        assert field in failed(client.patch("/images/v1/kept", headers=AUTH, json=body), 400)
        kept = ok(client.get("/images/v1/kept", headers=AUTH))
        assert kept["metadata"] == {} and kept["requireSignedURLs"] is False


def test_metadata_is_measured_alike_at_upload_and_patch(server: RunningServer) -> None:
    accented = {"note": "ab" + "é" * 505}  # 1,023 bytes as stored (UTF-8), 3,043 as \\u escapes
    stored = json.dumps(accented, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(stored) == 1023
    one_more = {"note": "ab" + "é" * 506}
    tiny = pyvips.Image.black(8, 8).pngsave_buffer()
    with server.client() as client:
        ok(upload(client, tiny, id="a", metadata=json.dumps(accented, ensure_ascii=False)))
        ok(upload(client, tiny, id="b"))
        patched = ok(client.patch("/images/v1/b", headers=AUTH, json={"metadata": accented}))
        assert patched["metadata"] == accented
        # The same measure refuses one more character in both.
        too_long = json.dumps(one_more, ensure_ascii=False)
        assert "1025 bytes" in failed(upload(client, tiny, id="c", metadata=too_long), 400)
        patch = client.patch("/images/v1/b", headers=AUTH, json={"metadata": one_more})
        assert "1025 bytes" in failed(patch, 400)


def test_numbers_that_reach_sql_are_bounded(server: RunningServer) -> None:
    with server.client() as client:
        ok(upload(client, pyvips.Image.black(8, 8).pngsave_buffer(), id="kept"))
        page = client.get("/images/v1", headers=AUTH, params={"page": "9" * 30})
        assert "page is 1 to" in failed(page, 400)
        assert ok(client.get("/images/v1", headers=AUTH, params={"page": 1_000_000})) == {
            "images": []
        }
        for token in (
            _token(["desc", 10**30, "kept"]),
            _token(["desc", -(10**30), "kept"]),
            _token(["desc", True, "kept"]),
            _token(["desc", 1, "x" * 2000]),
            _token(["desc", 1]),
        ):
            params = {"continuation_token": token, "per_page": 10}
            listing = client.get("/images/v2", headers=AUTH, params=params)
            assert "continuation_token" in failed(listing, 400)
