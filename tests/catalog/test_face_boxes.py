"""Face boxes in the catalog, on every backend: per original and per model, stored once."""

from __future__ import annotations

from sqlalchemy import Engine

from focal.catalog import FaceBoxStore, StoredFaces

BOXES = StoredFaces(640, 480, [{"box": [1.5, 2.0, 30.0, 40.25], "score": 0.99}])


def test_boxes_read_back_per_model(engine: Engine) -> None:
    store = FaceBoxStore(engine, "model-a")
    assert store.get("hash-1") is None
    store.put("hash-1", BOXES)
    store.put("hash-2", StoredFaces(10, 20, []))
    assert store.get("hash-1") == BOXES
    assert store.get("hash-2") == StoredFaces(10, 20, [])
    assert FaceBoxStore(engine, "model-b").get("hash-1") is None


def test_the_first_boxes_stored_stay(engine: Engine) -> None:
    store = FaceBoxStore(engine, "model-a")
    store.put("hash-1", BOXES)
    store.put("hash-1", StoredFaces(1, 1, []))  # another process's, a moment later
    assert store.get("hash-1") == BOXES
