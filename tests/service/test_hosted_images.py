"""Hosted images over a real server: where originals are kept, what a delete removes, and what
an upload that never finished leaves for the next start or the next try."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from conftest import read_photo, running_server, server_settings
from focal.catalog import HostedCatalog, ImageRecord, VariantRecord, catalog_url, open_catalog
from focal.errors import FocalError
from focal.options import Fit, canonical, parse_options
from focal.service.hosted import (
    RESERVATION,
    blob_key,
    checked_variant_options,
    variant_options,
    variant_record,
)
from focal.storage import open_blob_store
from focal.storage.owner import this_process

TOKEN = "hosted-service-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PRINT_OWNER = "from focal.storage.owner import this_process; print(this_process(), flush=True)"


@contextmanager
def hosted(data_dir: Path) -> Iterator[httpx.Client]:
    settings = server_settings(data_dir, api_tokens=(TOKEN,), detector_warm_start=False)
    with running_server(settings) as server, server.client(headers=AUTH) as client:
        yield client


@contextmanager
def catalog_of(data_dir: Path) -> Iterator[HostedCatalog]:
    engine = open_catalog(catalog_url(data_dir, ""))
    try:
        yield HostedCatalog(engine)
    finally:
        engine.dispose()


def upload(client: httpx.Client, image_id: str, data: bytes) -> httpx.Response:
    return client.post("/images/v1", files={"file": ("f.jpg", data)}, data={"id": image_id})


def blob_files(data_dir: Path) -> list[str]:
    root = data_dir / "blobs"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def reservation(image_id: str, data: bytes, owner: str, expires_in: timedelta) -> ImageRecord:
    """A draft as an upload of data by owner writes it before its blob."""
    now = datetime.now(UTC)
    return ImageRecord(
        id=image_id,
        filename="f.jpg",
        metadata={},
        require_signed_urls=False,
        uploaded=now,
        draft=True,
        upload_expires=now + expires_in,
        format=None,
        width=None,
        height=None,
        size=None,
        content_hash=None,
        blob_key=blob_key(image_id, hashlib.sha256(data).hexdigest()),
        upload_owner=owner,
    )


def dead_owner() -> str:
    done = subprocess.run([sys.executable, "-c", PRINT_OWNER], capture_output=True, text=True)
    return done.stdout.strip()


# --- Item: one image's keys are never a prefix of another's --------------------------------


def test_deleting_an_image_leaves_the_images_whose_ids_start_with_its_id(tmp_path: Path) -> None:
    photos = {"team": read_photo("chelsea"), "team/group": read_photo("multi_face")}
    photos["teamwork"] = read_photo("grace_hopper")
    with hosted(tmp_path) as client:
        for image_id, data in photos.items():
            assert upload(client, image_id, data).status_code == 200
        assert client.delete("/images/v1/team").status_code == 200
        assert client.get("/images/v1/team/group/blob").content == photos["team/group"]
        assert client.get("/images/v1/teamwork/blob").content == photos["teamwork"]
        assert client.delete("/images/v1/team/group").status_code == 200
        assert client.get("/images/v1/teamwork/blob").content == photos["teamwork"]
    digest = hashlib.sha256(photos["teamwork"]).hexdigest()
    assert blob_files(tmp_path) == [blob_key("teamwork", digest)]


def test_every_id_the_api_accepts_is_stored_read_and_deleted(tmp_path: Path) -> None:
    photo = read_photo("chelsea")
    ids = [
        "x" * 1024,  # the longest id
        "/".join(["part"] * 200)[:1000],  # many parts, 950-1024 characters
        "a/" + "b" * 300,  # a part longer than a file name may be
        ".focal-tmp-x",  # the local store's temporary mark
        "a/.focal-tmp-b",
    ]
    with hosted(tmp_path) as client:
        for image_id in ids:
            assert upload(client, image_id, photo).status_code == 200, image_id
            assert client.get(f"/images/v1/{image_id}/blob").content == photo
        for image_id in ids:
            assert client.delete(f"/images/v1/{image_id}").status_code == 200
            assert client.get(f"/images/v1/{image_id}").status_code == 404
        assert upload(client, "x" * 1025, photo).status_code == 400
    assert blob_files(tmp_path) == []


def test_an_image_of_the_earlier_layout_is_read_and_deleted_alone(tmp_path: Path) -> None:
    """Originals stored before keys were hashed stay at images/<id>/<content hash>."""
    photos = {"team": read_photo("chelsea"), "team/group": read_photo("multi_face")}
    blobs = open_blob_store("", tmp_path)
    with catalog_of(tmp_path) as catalog:
        for image_id, data in photos.items():
            digest = hashlib.sha256(data).hexdigest()
            old_key = f"images/{image_id}/{digest}"
            blobs.put(old_key, data)
            draft = reservation(image_id, data, "", RESERVATION)
            catalog.add_image(
                replace(
                    draft,
                    draft=False,
                    upload_expires=None,
                    format="jpeg",
                    size=len(data),
                    content_hash=digest,
                    blob_key=old_key,
                    upload_owner=None,
                )
            )
    with hosted(tmp_path) as client:
        assert client.get("/images/v1/team/blob").content == photos["team"]
        assert client.delete("/images/v1/team").status_code == 200
        assert client.get("/images/v1/team/group/blob").content == photos["team/group"]
        assert client.get("/images/team/group/public").status_code == 200
    digest = hashlib.sha256(photos["team/group"]).hexdigest()
    assert blob_files(tmp_path) == [f"images/team/group/{digest}"]


# --- Item: a crash between body and commit --------------------------------------------------


def test_a_retry_after_the_uploader_died_works_at_once(tmp_path: Path) -> None:
    half_done, photo = read_photo("multi_face"), read_photo("chelsea")
    held = reservation("retried", half_done, dead_owner(), RESERVATION)
    assert held.blob_key is not None
    with hosted(tmp_path) as client:
        # What a server of this host that died mid-upload leaves: its reservation and blob.
        with catalog_of(tmp_path) as catalog:
            catalog.add_image(held)
        open_blob_store("", tmp_path).put(held.blob_key, half_done)
        assert upload(client, "retried", photo).status_code == 200
        assert client.get("/images/v1/retried/blob").content == photo
    assert blob_files(tmp_path) == [blob_key("retried", hashlib.sha256(photo).hexdigest())]


def test_the_start_up_sweep_clears_a_dead_uploaders_reservation(tmp_path: Path) -> None:
    half_done = read_photo("multi_face")
    held = reservation("cut", half_done, dead_owner(), RESERVATION)
    assert held.blob_key is not None
    with catalog_of(tmp_path) as catalog:
        catalog.add_image(held)
    open_blob_store("", tmp_path).put(held.blob_key, half_done)
    with hosted(tmp_path) as client:
        assert client.get("/images/v1/cut").status_code == 404
    assert blob_files(tmp_path) == []


@pytest.mark.parametrize("who", ["this server", "another host"])
def test_a_reservation_of_a_live_or_unknown_uploader_holds_its_id(tmp_path: Path, who: str) -> None:
    photo = read_photo("chelsea")
    owner = this_process() if who == "this server" else "0123456789abcdef-1-1"
    with hosted(tmp_path) as client:
        with catalog_of(tmp_path) as catalog:
            catalog.add_image(reservation("busy", photo, owner, RESERVATION))
        assert upload(client, "busy", photo).status_code == 409
        with catalog_of(tmp_path) as catalog:
            held = catalog.get_image("busy")
            assert held is not None and held.draft and held.upload_owner == owner


def test_an_expired_reservation_is_taken_over_with_its_blob(tmp_path: Path) -> None:
    half_done, photo = read_photo("multi_face"), read_photo("chelsea")
    held = reservation("late", half_done, "0123456789abcdef-1-1", RESERVATION)
    assert held.blob_key is not None
    with hosted(tmp_path) as client:
        with catalog_of(tmp_path) as catalog:
            catalog.add_image(replace(held, upload_expires=datetime.now(UTC)))
        open_blob_store("", tmp_path).put(held.blob_key, half_done)
        assert upload(client, "late", photo).status_code == 200
        assert client.get("/images/v1/late/blob").content == photo
    assert blob_files(tmp_path) == [blob_key("late", hashlib.sha256(photo).hexdigest())]


def test_one_record_that_cannot_be_swept_never_stops_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    photo = read_photo("chelsea")
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = replace(reservation("swept", photo, dead_owner(), RESERVATION), upload_expires=past)
    broken = replace(expired, id="broken", blob_key="images/" + "x" * 300 + "/y")
    with catalog_of(tmp_path) as catalog:
        catalog.add_image(broken)
        catalog.add_image(expired)
    with caplog.at_level(logging.ERROR), hosted(tmp_path) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/images/v1/swept").status_code == 404
    assert "'broken'" in caplog.text


def test_a_direct_upload_draft_outlives_its_creator_and_its_failed_tries(tmp_path: Path) -> None:
    photo = read_photo("chelsea")
    with hosted(tmp_path) as client:
        made = client.post("/images/v2/direct_upload", data={"id": "direct"})
        url = made.json()["result"]["uploadURL"].removeprefix(str(client.base_url).rstrip("/"))
    with hosted(tmp_path) as client:  # another server start: the draft's sweep keeps it
        assert client.get("/images/v1/direct").json()["result"]["draft"] is True
        bad = client.post(url, files={"file": ("f.jpg", b"not an image")})
        assert 400 <= bad.status_code < 500
        assert client.post(url, files={"file": ("f.jpg", photo)}).status_code == 200
        assert client.get("/images/v1/direct/blob").content == photo
    assert blob_files(tmp_path) == [blob_key("direct", hashlib.sha256(photo).hexdigest())]


# --- named variants: checked by the URL form's parser -----------------------------------


def test_a_named_variant_stands_for_the_options_its_url_form_would() -> None:
    values = {"fit": "cover", "w": 120, "h": 80, "metadata": "keep", "gravity": "face"}
    record = variant_record("thumb", values, never_require_signed_urls=False)
    expected = parse_options("fit=cover,w=120,h=80,metadata=keep,gravity=face")
    assert variant_options(record) == expected
    assert record.options == canonical(expected)  # stored as the canonical option string
    assert variant_options(record).fit is Fit.COVER
    only_fit = variant_record("wide", {"fit": "scale-down", "metadata": "none"}, False)
    assert variant_options(only_fit) == parse_options("fit=scale-down,metadata=none")
    defaults = VariantRecord("plain", "", never_require_signed_urls=False)
    assert variant_options(defaults) == parse_options("fit=scale-down")


def test_every_url_option_round_trips_through_a_variant() -> None:
    text = (
        "w=300,h=200,fit=pad,g=0.3x0.7,q=70,f=webp,background=red,rotate=90,flip=h,"
        "blur=2,sharpen=1,brightness=1.1,contrast=0.9,gamma=0.8,saturation=0.5,"
        "trim.left=3,trim.top=4,anim=false,metadata=keep,dpr=2,onerror=redirect"
    )
    wanted = parse_options(text)
    pairs = dict(part.split("=", 1) for part in text.split(","))
    record = variant_record("all", pairs, never_require_signed_urls=False)
    assert variant_options(record) == wanted


def test_browser_ttl_is_the_variants_own() -> None:
    record = variant_record("cached", {"width": 10, "browser_ttl": 60}, False)
    assert record.browser_ttl == 60
    assert variant_options(record) == parse_options("width=10")
    for bad in (-1, True, "60", 10**9):
        with pytest.raises(FocalError, match="'options.browser_ttl'"):
            variant_record("cached", {"browser_ttl": bad}, False)


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"fit": "stretch"}, "options.fit", "expected one of scale-down, contain"),
        ({"width": 0}, "options.width", "from 1 to 12000"),
        ({"height": 12_001}, "options.height", "from 1 to 12000"),
        ({"metadata": "all"}, "options.metadata", "expected one of keep, copyright, none"),
    ],
)
def test_a_bad_variant_value_gets_the_url_forms_message_and_names_its_field(
    values: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(FocalError) as caught:
        checked_variant_options(values)
    assert caught.value.status == 400
    assert f"'{field}'" in caught.value.message and expected in caught.value.message


def test_a_variant_takes_the_url_forms_spellings() -> None:
    assert checked_variant_options({"fit": "COVER", "width": 10}).fit is Fit.COVER
