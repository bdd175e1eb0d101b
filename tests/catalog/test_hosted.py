"""The hosted-images catalog on every backend (SQLite files, and PostgreSQL when a server is
installed, see tests/postgres.py): images, drafts, variants, keys, tokens."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text, update

from focal.catalog import HostedCatalog, ImageRecord, VariantRecord, new_image_id
from focal.catalog.schema import images
from focal.errors import ErrorKind, FocalError

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def catalog(engine: Engine) -> HostedCatalog:
    return HostedCatalog(engine)


def image(image_id: str, uploaded: datetime = T0, **changes: Any) -> ImageRecord:
    record = ImageRecord(
        id=image_id,
        filename=f"{image_id}.jpg",
        metadata={"owner": image_id},
        require_signed_urls=False,
        uploaded=uploaded,
        draft=False,
        upload_expires=None,
        format="jpeg",
        width=640,
        height=480,
        size=1000,
        content_hash=hashlib.sha256(image_id.encode()).hexdigest(),
    )
    return replace(record, **changes)


def draft(image_id: str, expires_in: timedelta) -> ImageRecord:
    now = datetime.now(UTC)
    return image(
        image_id,
        uploaded=now,
        draft=True,
        upload_expires=now + expires_in,
        filename=None,
        format=None,
        width=None,
        height=None,
        size=None,
        content_hash=None,
    )


def error_kind(call: Any, *args: Any, **kwargs: Any) -> ErrorKind:
    with pytest.raises(FocalError) as raised:
        call(*args, **kwargs)
    return raised.value.kind


# --- Images --------------------------------------------------------------------------------


def test_an_added_image_reads_back_equal(catalog: HostedCatalog) -> None:
    record = image("cat", metadata={"a": [1, 2, {"b": None}], "ü": "ß"}, require_signed_urls=True)
    assert catalog.add_image(record) == record
    assert catalog.get_image("cat") == record
    assert catalog.get_image("dog") is None


def test_uploaded_time_keeps_microseconds_and_utc(catalog: HostedCatalog) -> None:
    moment = datetime(2031, 2, 3, 4, 5, 6, 789012, tzinfo=timezone(timedelta(hours=2)))
    stored = catalog.add_image(image("t", uploaded=moment))
    assert stored.uploaded == moment and stored.uploaded.tzinfo == UTC
    assert catalog.get_image("t") == stored


def test_naive_times_are_refused(catalog: HostedCatalog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        catalog.add_image(image("naive", uploaded=datetime(2024, 1, 1)))
    assert catalog.get_image("naive") is None


def test_text_that_a_backend_cannot_store_is_refused(catalog: HostedCatalog) -> None:
    # PostgreSQL refuses NUL in text, and no backend takes a lone surrogate: both are a 400
    # on every backend, not a 500 on one.
    for bad in ("a\x00b.jpg", "\ud800.jpg"):
        assert error_kind(catalog.add_image, image("f", filename=bad)) is ErrorKind.BAD_REQUEST
        assert error_kind(catalog.create_token, bad) is ErrorKind.BAD_REQUEST
    assert catalog.get_image("f") is None and catalog.list_tokens() == []
    catalog.add_image(draft("d", timedelta(minutes=5)))
    kind = error_kind(catalog.complete_draft, "d", **{**FACTS, "filename": "\x00"})
    assert kind is ErrorKind.BAD_REQUEST
    assert catalog.add_image(image("u8", filename="ßü 🙂.jpg")).filename == "ßü 🙂.jpg"


def test_a_taken_id_is_a_conflict_and_changes_nothing(catalog: HostedCatalog) -> None:
    first = catalog.add_image(image("same"))
    assert error_kind(catalog.add_image, image("same", size=5)) is ErrorKind.CONFLICT
    assert ErrorKind.CONFLICT.status == 409
    assert catalog.get_image("same") == first


def test_custom_ids_may_be_paths_but_not_anything(catalog: HostedCatalog) -> None:
    catalog.add_image(image("users/42/avatar.png"))
    assert catalog.get_image("users/42/avatar.png") is not None
    for bad in ("", "x" * 1025, "a b", "a?b", "a#b", "50%", "/lead", "trail/", "a//b", "a/../b"):
        assert error_kind(catalog.add_image, image(bad)) is ErrorKind.BAD_REQUEST, bad
    assert catalog.add_image(image("y" * 1024, metadata={})).id == "y" * 1024
    generated = new_image_id()
    assert catalog.add_image(image(generated)).id == generated != new_image_id()


def test_metadata_is_limited_to_1024_bytes_of_json(catalog: HostedCatalog) -> None:
    # {"k":"…"} is 8 bytes around the value.
    catalog.add_image(image("fits", metadata={"k": "x" * 1016}))
    with pytest.raises(FocalError, match="1025 bytes") as raised:
        catalog.add_image(image("too-big", metadata={"k": "x" * 1017}))
    assert raised.value.kind is ErrorKind.BAD_REQUEST
    # Size is counted in bytes: two bytes per "é".
    assert error_kind(catalog.add_image, image("wide", metadata={"k": "é" * 600})).status == 400
    assert error_kind(catalog.add_image, image("odd", metadata={"k": {1, 2}})).status == 400
    assert error_kind(catalog.add_image, image("lone", metadata={"k": "\ud800"})).status == 400
    assert error_kind(catalog.add_image, image("nan", metadata={"k": float("nan")})).status == 400
    assert [catalog.get_image(i) is None for i in ("too-big", "wide", "odd", "lone", "nan")] == [
        True
    ] * 5
    with pytest.raises(FocalError, match="2008 bytes"):
        catalog.update_image("fits", metadata={"k": "x" * 2000})
    assert catalog.get_image("fits") == image("fits", metadata={"k": "x" * 1016})


def test_update_changes_only_what_is_given(catalog: HostedCatalog) -> None:
    original = catalog.add_image(image("u"))
    assert catalog.update_image("u") == original
    updated = catalog.update_image("u", metadata={"new": True})
    assert updated == replace(original, metadata={"new": True})
    signed = catalog.update_image("u", require_signed_urls=True)
    assert signed == replace(original, metadata={"new": True}, require_signed_urls=True)
    assert catalog.get_image("u") == signed
    assert catalog.update_image("missing", metadata={}) is None
    with pytest.raises(FocalError, match="at most 1024"):
        catalog.update_image("u", metadata={"k": "x" * 2000})
    assert catalog.get_image("u") == signed


def test_delete(catalog: HostedCatalog) -> None:
    catalog.add_image(image("gone"))
    assert catalog.delete_image("gone") is True
    assert catalog.get_image("gone") is None
    assert catalog.delete_image("gone") is False


def test_stats_count_uploaded_images_only(catalog: HostedCatalog) -> None:
    assert catalog.stats() == (0, 0)
    catalog.add_image(image("a", size=100))
    catalog.add_image(image("b", size=23))
    catalog.add_image(draft("c", timedelta(minutes=30)))
    assert catalog.stats() == (2, 123)


# --- Direct uploads ------------------------------------------------------------------------

FACTS: dict[str, Any] = {
    "filename": "me.png",
    "format": "png",
    "width": 10,
    "height": 20,
    "size": 300,
    "content_hash": "ab" * 32,
}


def test_a_draft_is_completed_once(catalog: HostedCatalog) -> None:
    placeholder = catalog.add_image(draft("d", timedelta(minutes=30)))
    assert placeholder.draft and placeholder.upload_expires is not None
    assert catalog.get_image("d") == placeholder
    before = datetime.now(UTC)
    done = catalog.complete_draft("d", **FACTS)
    assert not done.draft and done.upload_expires is None
    assert (done.filename, done.format, done.width, done.height, done.size) == (
        "me.png",
        "png",
        10,
        20,
        300,
    )
    assert done.content_hash == "ab" * 32 and done.metadata == {"owner": "d"}
    assert done.uploaded >= before - timedelta(seconds=1)
    assert catalog.get_image("d") == done
    with pytest.raises(FocalError, match="already used") as raised:
        catalog.complete_draft("d", **{**FACTS, "size": 1})
    assert raised.value.kind is ErrorKind.CONFLICT
    assert catalog.get_image("d") == done


def test_concurrent_completions_let_exactly_one_win(catalog: HostedCatalog) -> None:
    catalog.add_image(draft("race", timedelta(minutes=30)))
    start = threading.Barrier(10)

    def complete(n: int) -> int | None:
        start.wait()
        try:
            return catalog.complete_draft("race", **{**FACTS, "size": n}).size
        except FocalError as error:
            assert error.kind is ErrorKind.CONFLICT
            return None

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(complete, range(10)))
    winners = [size for size in results if size is not None]
    assert len(winners) == 1
    stored = catalog.get_image("race")
    assert stored is not None and stored.size == winners[0]


def test_an_expired_draft_cannot_be_completed_and_frees_its_id(
    catalog: HostedCatalog, engine: Engine
) -> None:
    catalog.add_image(draft("late", timedelta(minutes=30)))
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp() * 1_000_000)
    with engine.begin() as connection:
        connection.execute(update(images).where(images.c.id == "late").values(upload_expires=past))
    with pytest.raises(FocalError, match="expired") as raised:
        catalog.complete_draft("late", **FACTS)
    assert raised.value.status == 403
    stored = catalog.get_image("late")
    assert stored is not None and stored.draft
    # A new upload may take the id of an upload that never came.
    assert catalog.add_image(image("late")).draft is False
    catalog.add_image(draft("stale", timedelta(microseconds=1)))
    catalog.add_image(draft("fresh", timedelta(minutes=5)))
    unfinished = catalog.unfinished_drafts()
    assert [d.id for d in unfinished] == ["stale"]
    assert catalog.delete_draft(unfinished[0]) is True
    assert catalog.delete_draft(unfinished[0]) is False
    assert catalog.get_image("stale") is None and catalog.get_image("fresh") is not None


def test_ids_that_name_api_paths_are_reserved(catalog: HostedCatalog) -> None:
    for reserved in ("stats", "keys", "variants", "variants/thumb", "v1", "v1/x", "x/blob"):
        with pytest.raises(FocalError, match="reserved") as raised:
            catalog.add_image(image(reserved))
        assert raised.value.status == 400, reserved
        assert catalog.get_image(reserved) is None
    for usable in ("blob", "stats/2024", "keys/rotate", "my-variants", "v2", "x/blobs"):
        assert catalog.add_image(image(usable)).id == usable


def held(image_id: str, owner: str) -> ImageRecord:
    return replace(draft(image_id, timedelta(minutes=10)), upload_owner=owner, blob_key="k/1")


def test_a_draft_is_taken_over_once_and_only_as_it_was_read(catalog: HostedCatalog) -> None:
    abandoned = catalog.add_image(held("taken", "dead"))
    mine = held("taken", "mine")
    assert catalog.take_over_draft(mine, abandoned) is True
    assert catalog.get_image("taken") == mine
    assert catalog.take_over_draft(held("taken", "third"), abandoned) is False
    assert catalog.delete_draft(abandoned) is False
    assert catalog.get_image("taken") == mine


def test_a_draft_taken_over_is_not_completed_by_its_former_owner(catalog: HostedCatalog) -> None:
    abandoned = catalog.add_image(held("owned", "slow"))
    catalog.take_over_draft(held("owned", "retry"), abandoned)
    with pytest.raises(FocalError, match="took its place") as raised:
        catalog.complete_draft("owned", **FACTS, owner="slow")
    assert raised.value.status == 409
    done = catalog.complete_draft("owned", **FACTS, blob_key="k/2", owner="retry")
    assert not done.draft and done.blob_key == "k/2" and done.upload_owner is None


def test_an_expired_draft_that_holds_a_blob_keeps_its_id_until_taken_over(
    catalog: HostedCatalog,
) -> None:
    catalog.add_image(replace(held("kept", "x"), upload_expires=datetime.now(UTC)))
    assert error_kind(catalog.add_image, image("kept")) is ErrorKind.CONFLICT
    assert [d.id for d in catalog.unfinished_drafts()] == ["kept"]


def test_completing_what_is_no_draft_fails(catalog: HostedCatalog) -> None:
    assert error_kind(catalog.complete_draft, "nothing", **FACTS) is ErrorKind.NOT_FOUND
    catalog.add_image(image("plain"))
    assert error_kind(catalog.complete_draft, "plain", **FACTS) is ErrorKind.CONFLICT
    # A live draft's id is taken.
    catalog.add_image(draft("waiting", timedelta(minutes=5)))
    assert error_kind(catalog.add_image, image("waiting")) is ErrorKind.CONFLICT


# --- Listing -------------------------------------------------------------------------------


def add_many(catalog: HostedCatalog, count: int) -> list[ImageRecord]:
    """Images with clashing upload times, so ties are broken by id."""
    return [
        catalog.add_image(image(f"img-{n:02d}", uploaded=T0 + timedelta(seconds=n // 3)))
        for n in reversed(range(count))
    ]


def test_v1_lists_newest_first_by_page_without_drafts(catalog: HostedCatalog) -> None:
    added = add_many(catalog, 7)
    catalog.add_image(draft("zz-draft", timedelta(minutes=5)))
    newest_first = sorted(added, key=lambda r: (r.uploaded, r.id), reverse=True)
    pages = [catalog.list_images_v1(page, 3) for page in (1, 2, 3, 4)]
    assert pages[0] == newest_first[:3]
    assert pages[1] == newest_first[3:6]
    assert pages[2] == newest_first[6:]
    assert pages[3] == []
    assert error_kind(catalog.list_images_v1, 0, 10) is ErrorKind.BAD_REQUEST
    assert error_kind(catalog.list_images_v1, 1, 0) is ErrorKind.BAD_REQUEST


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
@pytest.mark.parametrize("per_page", [1, 3, 17, 100])
def test_v2_pages_cover_every_image_once(
    catalog: HostedCatalog, sort_order: str, per_page: int
) -> None:
    added = add_many(catalog, 17)
    catalog.add_image(draft("img-00-draft", timedelta(minutes=5)))
    expected = sorted(added, key=lambda r: (r.uploaded, r.id), reverse=sort_order == "desc")
    seen: list[ImageRecord] = []
    token: str | None = None
    for _ in range(20):
        page, token = catalog.list_images_v2(
            per_page=per_page, continuation_token=token, sort_order=sort_order
        )
        assert len(page) <= per_page
        seen.extend(page)
        if token is None:
            break
    assert seen == expected


def test_v2_pages_hold_when_images_come_and_go(catalog: HostedCatalog) -> None:
    add_many(catalog, 6)
    first, token = catalog.list_images_v2(per_page=3, continuation_token=None, sort_order="asc")
    catalog.delete_image(first[0].id)
    catalog.delete_image("img-05")  # not seen yet
    catalog.add_image(image("new", uploaded=T0 + timedelta(days=1)))
    rest, token = catalog.list_images_v2(per_page=10, continuation_token=token, sort_order="asc")
    assert token is None
    assert [r.id for r in first + rest] == [
        "img-00",
        "img-01",
        "img-02",
        "img-03",
        "img-04",
        "new",
    ]


def test_v2_refuses_bad_arguments(catalog: HostedCatalog) -> None:
    add_many(catalog, 3)
    _, token = catalog.list_images_v2(per_page=1, continuation_token=None, sort_order="desc")
    assert token is not None
    list_v2 = catalog.list_images_v2
    kind = error_kind(list_v2, per_page=1, continuation_token=token, sort_order="asc")
    assert kind is ErrorKind.BAD_REQUEST
    for bad in ("garbage!", "bm90IGpzb24", "WzEsMl0"):  # not base64; not JSON; wrong shape
        kind = error_kind(list_v2, per_page=1, continuation_token=bad, sort_order="desc")
        assert kind is ErrorKind.BAD_REQUEST
    kind = error_kind(list_v2, per_page=1, continuation_token=None, sort_order="up")
    assert kind is ErrorKind.BAD_REQUEST
    kind = error_kind(list_v2, per_page=10_001, continuation_token=None, sort_order="asc")
    assert kind is ErrorKind.BAD_REQUEST


# --- Concurrency ---------------------------------------------------------------------------


def test_fifty_threads_adding_at_once_lose_and_mix_nothing(catalog: HostedCatalog) -> None:
    start = threading.Barrier(50)

    def add(n: int) -> tuple[ImageRecord, ImageRecord | None]:
        record = image(f"c{n}", uploaded=datetime.now(UTC), size=n, metadata={"n": n})
        start.wait()
        catalog.add_image(record)
        return record, catalog.get_image(record.id)

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(add, range(50)))
    for written, read in results:
        assert read == written
    everything, token = catalog.list_images_v2(
        per_page=1000, continuation_token=None, sort_order="asc"
    )
    assert token is None
    assert sorted(r.id for r in everything) == sorted(f"c{n}" for n in range(50))
    assert all(r.metadata == {"n": r.size} for r in everything)
    assert catalog.stats() == (50, sum(range(50)))


# --- Variants ------------------------------------------------------------------------------


def variant(name: str, **changes: Any) -> VariantRecord:
    record = VariantRecord(
        name=name,
        options="fit=cover,height=100,width=200",
        never_require_signed_urls=False,
    )
    return replace(record, **changes)


def test_public_exists_by_default(catalog: HostedCatalog) -> None:
    public = VariantRecord("public", "metadata=none", False)
    assert catalog.list_variants() == [public]
    assert catalog.get_variant("public") == public


def test_variants_are_created_replaced_and_deleted(catalog: HostedCatalog) -> None:
    thumb = variant("thumb")
    assert catalog.put_variant(thumb, create=True) == thumb
    assert error_kind(catalog.put_variant, variant("thumb", options="width=1"), create=True) is (
        ErrorKind.CONFLICT
    )
    assert catalog.get_variant("thumb") == thumb
    bigger = variant(
        "thumb", options="fit=pad,width=400", browser_ttl=60, never_require_signed_urls=True
    )
    assert catalog.put_variant(bigger, create=False) == bigger
    assert catalog.get_variant("thumb") == bigger
    assert error_kind(catalog.put_variant, variant("nope"), create=False) is ErrorKind.NOT_FOUND
    assert catalog.get_variant("nope") is None
    assert [v.name for v in catalog.list_variants()] == ["public", "thumb"]
    assert catalog.delete_variant("thumb") is True
    assert catalog.delete_variant("thumb") is False
    assert catalog.delete_variant("public") is True
    assert catalog.list_variants() == []


def test_variant_names_are_validated(catalog: HostedCatalog) -> None:
    # Options are checked once, by focal.options, before the catalog (service/hosted.py).
    for bad in (variant("has space"), variant("w=100"), variant("x" * 101)):
        assert error_kind(catalog.put_variant, bad, create=True) is ErrorKind.BAD_REQUEST
    assert catalog.list_variants() == [VariantRecord("public", "metadata=none", False)]


def test_at_most_100_variants(catalog: HostedCatalog) -> None:
    for n in range(99):  # with public: 100
        catalog.put_variant(variant(f"v{n}"), create=True)
    with pytest.raises(FocalError, match="at most 100") as raised:
        catalog.put_variant(variant("one-too-many"), create=True)
    assert raised.value.kind is ErrorKind.BAD_REQUEST
    assert len(catalog.list_variants()) == 100
    assert catalog.get_variant("one-too-many") is None
    catalog.delete_variant("v0")
    catalog.put_variant(variant("one-too-many"), create=True)
    assert len(catalog.list_variants()) == 100


def test_concurrent_creations_never_pass_the_limit(catalog: HostedCatalog) -> None:
    for n in range(97):  # with public: 98, room for two
        catalog.put_variant(variant(f"v{n}"), create=True)
    start = threading.Barrier(8)

    def create(n: int) -> bool:
        start.wait()
        try:
            catalog.put_variant(variant(f"late{n}"), create=True)
            return True
        except FocalError as error:
            assert error.kind is ErrorKind.BAD_REQUEST
            return False

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, range(8)))
    assert created.count(True) == 2
    assert len(catalog.list_variants()) == 100


# --- Signing keys --------------------------------------------------------------------------


def test_a_default_key_is_made_on_first_use(catalog: HostedCatalog) -> None:
    keys = catalog.signing_keys()
    assert [name for name, _ in keys] == ["default"]
    assert len(bytes.fromhex(keys[0][1])) == 32
    assert catalog.signing_keys() == keys


def test_rotation_keeps_the_newest_two(catalog: HostedCatalog) -> None:
    default = catalog.signing_keys()[0]
    second = catalog.rotate_signing_key()
    assert second[1] == default and second[0] != default
    assert catalog.signing_keys() == second
    third = catalog.rotate_signing_key()
    assert third[1] == second[0] and default not in third
    assert catalog.signing_keys() == third
    assert len({secret for _, secret in [default, *second, *third]}) == 3


def test_concurrent_first_use_makes_one_default_key(catalog: HostedCatalog) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: catalog.signing_keys(), range(8)))
    assert all(result == results[0] for result in results) and len(results[0]) == 1


def test_concurrent_rotations_keep_two_keys(catalog: HostedCatalog) -> None:
    catalog.signing_keys()
    start = threading.Barrier(8)

    def rotate(_: int) -> list[tuple[str, str]]:
        start.wait()
        return catalog.rotate_signing_key()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(rotate, range(8)))
    assert all(len(keys) == 2 for keys in results)
    assert len(catalog.signing_keys()) == 2


# --- API tokens ----------------------------------------------------------------------------


def test_tokens_are_stored_hashed(catalog: HostedCatalog, engine: Engine, tmp_path: Path) -> None:
    token_id, secret = catalog.create_token("ci")
    assert catalog.check_token(secret)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text("SELECT * FROM api_tokens"))]
    assert len(rows) == 1
    assert not any(secret in str(value) for value in rows[0])
    assert hashlib.sha256(secret.encode()).hexdigest() in rows[0]
    engine.dispose()
    for path in tmp_path.glob("focal.db*"):  # a SQLite database and its WAL
        assert secret.encode() not in path.read_bytes()
    listed = catalog.list_tokens()
    assert [(t["id"], t["name"], t["revoked"]) for t in listed] == [(token_id, "ci", False)]
    assert listed[0]["created"].tzinfo == UTC
    assert not any(secret in str(value) for value in listed[0].values())


def test_only_live_exact_secrets_pass(catalog: HostedCatalog) -> None:
    first_id, first = catalog.create_token("one")
    second_id, second = catalog.create_token("two")
    assert first != second and first_id != second_id
    for wrong in ("", first[:-1], first + "x", first.upper(), "focal_"):
        assert not catalog.check_token(wrong)
    assert catalog.revoke_token(first_id) is True
    assert not catalog.check_token(first)
    assert catalog.check_token(second)
    assert catalog.revoke_token(first_id) is False
    assert catalog.revoke_token("unknown") is False
    listed = {t["id"]: t for t in catalog.list_tokens()}
    assert listed[first_id]["revoked"] and listed[first_id]["revoked_at"] is not None
    assert not listed[second_id]["revoked"] and listed[second_id]["revoked_at"] is None


def test_token_names_are_checked(catalog: HostedCatalog) -> None:
    for bad in ("", "   ", "x" * 101):
        assert error_kind(catalog.create_token, bad) is ErrorKind.BAD_REQUEST
    assert catalog.list_tokens() == []
