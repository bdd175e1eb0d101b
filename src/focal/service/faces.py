"""Faces for gravity=face: detected once per original, remembered by content hash.

Many variants of one image (grid thumbnail, product view, profile picture) cost one
detection: boxes are kept in a memory LRU and in the catalog, and concurrent requests for
one new original wait on the same detection. Only boxes and scores are kept.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache

from focal.catalog import FaceBoxStore, StoredFaces
from focal.faces.detector import (
    DEFAULT_SCORE_THRESHOLD,
    FaceDetector,
    face_boxes,
    model_checksum,
    model_for,
)
from focal.faces.workers import DetectionUnavailable, FaceDetectors
from focal.pipeline import Box
from focal.service.process_locks import KeyLocks
from focal.service.single_flight import SingleFlight


@dataclass(frozen=True)
class FaceLookup:
    """Faces in pixels of the original as displayed; `faces` None when detection failed."""

    faces: tuple[Box, ...] | None
    scores: tuple[float, ...] = ()
    origin: str = "detected"  # detected | memory | catalog | unavailable
    reason: str = ""

    def describe(self) -> list[dict[str, object]]:
        """JSON form: boxes as x, y, width, height in original pixels, with scores."""
        return [
            {
                "x": round(box.left, 1),
                "y": round(box.top, 1),
                "width": round(box.width, 1),
                "height": round(box.height, 1),
                "score": round(score, 4),
            }
            for box, score in zip(self.faces or (), self.scores, strict=True)
        ]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detector_identity(max_side: int, model_path: Path | None = None) -> str:
    """Stored boxes are reused only by the same model (default: the one for max_side),
    threshold, detection size and checks (`c1`: the shape, landmark and containment checks of
    faces/detector.py)."""
    checksum = model_checksum(model_path or model_for("auto", max_side))
    return f"retinaface-{checksum[:16]}-t{DEFAULT_SCORE_THRESHOLD}-s{max_side}-c1"


def _lookup(stored: StoredFaces, origin: str) -> FaceLookup:
    boxes = []
    scores = []
    for face in stored.faces:
        x1, y1, x2, y2 = (float(value) for value in face["box"])  # type: ignore[attr-defined]
        boxes.append(Box(x1, y1, x2 - x1, y2 - y1))
        scores.append(float(face["score"]))  # type: ignore[arg-type]
    return FaceLookup(tuple(boxes), tuple(scores), origin)


def detect_in_process(detector: FaceDetector, data: bytes) -> FaceLookup:
    """Faces found by a detector in this process (the CLI's way; servers use FaceLocator)."""
    faces, _, _ = detector.detect_bytes(data)
    return FaceLookup(face_boxes(faces), tuple(face.score for face in faces))


class FaceLocator:
    def __init__(
        self,
        pool: FaceDetectors,
        store: FaceBoxStore | None,
        memory_size: int,
        processes: KeyLocks | None = None,
    ) -> None:
        self.pool = pool
        self.store = store
        # Several server processes: one detects a new original, the others then read its
        # boxes from the catalog.
        self._processes = processes if store is not None else None
        # A memory of 0 keeps nothing (cachetools refuses a zero-sized cache's every entry).
        self._memory: LRUCache[str, StoredFaces] | None = (
            LRUCache(memory_size) if memory_size > 0 else None
        )
        self._detecting: SingleFlight[str, FaceLookup] = SingleFlight()

    def _remember(self, key: str, stored: StoredFaces) -> None:
        if self._memory is not None:
            self._memory[key] = stored

    async def locate(self, data: bytes, key: str | None = None) -> FaceLookup:
        """Faces of the original `data`, whose content hash is `key` (computed if not given).

        Concurrent calls for one new original share one look-up and detection.
        """
        if key is None:
            key = await asyncio.to_thread(content_hash, data)
        stored = self._memory.get(key) if self._memory is not None else None
        if stored is not None:
            return _lookup(stored, "memory")
        return await self._detecting.run(key, functools.partial(self._find, data, key))

    async def _find(self, data: bytes, key: str) -> FaceLookup:
        if self._processes is None:
            return await self._look_up_or_detect(data, key)
        async with self._processes.hold(f"faces-{key}"):
            return await self._look_up_or_detect(data, key)

    async def _look_up_or_detect(self, data: bytes, key: str) -> FaceLookup:
        if self.store is not None:
            stored = await asyncio.to_thread(self.store.get, key)
            if stored is not None:
                self._remember(key, stored)
                return _lookup(stored, "catalog")
        try:
            result = await self.pool.detect(data)
        except DetectionUnavailable as error:
            return FaceLookup(None, origin="unavailable", reason=error.reason)
        stored = StoredFaces(
            width=result.width,
            height=result.height,
            faces=[{"box": list(face.box), "score": face.score} for face in result.faces],
        )
        self._remember(key, stored)
        if self.store is not None:
            await asyncio.to_thread(self.store.put, key, stored)
        return _lookup(stored, "detected")
