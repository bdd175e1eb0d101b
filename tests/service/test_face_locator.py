"""Face boxes are detected once per original and reused by every variant of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import read_photo
from focal.catalog import FaceBoxStore, open_catalog
from focal.faces.workers import DetectorPool
from focal.service.faces import FaceLocator, FaceLookup, content_hash, detector_identity


@pytest.fixture(scope="module")
def pool() -> Iterator[DetectorPool]:
    with DetectorPool(workers=1) as detectors:
        yield detectors


def _store(folder: Path) -> FaceBoxStore:
    return FaceBoxStore(open_catalog(f"sqlite:///{folder / 'focal.db'}"), detector_identity(1024))


def test_second_variant_skips_detection(pool: DetectorPool, tmp_path: Path) -> None:
    data = read_photo("multi_face")
    locator = FaceLocator(pool, _store(tmp_path), memory_size=16)
    before = pool.tasks_run

    async def twice() -> tuple[object, object]:
        first = await locator.locate(data, content_hash(data))
        second = await locator.locate(data, content_hash(data))
        return first, second

    first, second = asyncio.run(twice())
    assert pool.tasks_run == before + 1
    assert first.origin == "detected" and second.origin == "memory"  # type: ignore[attr-defined]
    assert first.faces == second.faces and len(first.faces) == 5  # type: ignore[attr-defined]


def test_boxes_survive_a_restart_through_the_catalog(pool: DetectorPool, tmp_path: Path) -> None:
    data = read_photo("grace_hopper")
    key = content_hash(data)
    first = asyncio.run(FaceLocator(pool, _store(tmp_path), 16).locate(data, key))
    before = pool.tasks_run
    again = asyncio.run(FaceLocator(pool, _store(tmp_path), 16).locate(data, key))
    assert pool.tasks_run == before
    assert again.origin == "catalog"
    assert again.faces == first.faces and again.scores == first.scores


def test_concurrent_requests_for_a_new_original_share_one_detection(
    pool: DetectorPool, tmp_path: Path
) -> None:
    data = read_photo("single_face")
    locator = FaceLocator(pool, _store(tmp_path), memory_size=16)
    before = pool.tasks_run

    async def many() -> list[object]:
        return list(
            await asyncio.gather(*(locator.locate(data, content_hash(data)) for _ in range(8)))
        )

    results = asyncio.run(many())
    assert pool.tasks_run == before + 1
    assert len({result.faces for result in results}) == 1  # type: ignore[attr-defined]


def test_memory_is_bounded(pool: DetectorPool, tmp_path: Path) -> None:
    locator = FaceLocator(pool, None, memory_size=2)
    photos = [read_photo(name) for name in ("chelsea", "coffee", "rocket")]

    async def all_of_them() -> None:
        for data in photos:
            await locator.locate(data, content_hash(data))

    asyncio.run(all_of_them())
    assert len(locator._memory) == 2
    assert content_hash(photos[0]) not in locator._memory


def test_no_face_photos_give_empty_results(pool: DetectorPool) -> None:
    locator = FaceLocator(pool, None, memory_size=4)
    for name in ("quokka", "chelsea", "building"):
        data = read_photo(name)
        lookup = asyncio.run(locator.locate(data, content_hash(data)))
        assert lookup.faces == (), name


def test_a_memory_of_zero_keeps_nothing_and_still_finds_faces(
    pool: DetectorPool, tmp_path: Path
) -> None:
    locator = FaceLocator(pool, None, memory_size=0)
    data = read_photo("single_face")
    before = pool.tasks_run

    async def twice() -> tuple[FaceLookup, FaceLookup]:
        return await locator.locate(data), await locator.locate(data)

    first, second = asyncio.run(twice())
    assert first.origin == second.origin == "detected"  # nothing remembered
    assert pool.tasks_run == before + 2
    assert first.faces == second.faces and len(first.faces or ()) == 1


def test_a_caller_that_hangs_up_does_not_cancel_the_shared_detection(
    pool: DetectorPool, tmp_path: Path
) -> None:
    data = read_photo("grace_hopper")
    locator = FaceLocator(pool, _store(tmp_path), memory_size=16)
    before = pool.tasks_run

    async def one_hangs_up() -> FaceLookup:
        first = asyncio.ensure_future(locator.locate(data))
        second = asyncio.ensure_future(locator.locate(data))
        await asyncio.sleep(0)  # both are waiting on the one detection
        first.cancel()
        return await second

    lookup = asyncio.run(one_hangs_up())
    assert lookup.origin == "detected" and lookup.faces
    assert pool.tasks_run == before + 1
