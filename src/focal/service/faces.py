"""Faces for gravity=face: detected once per original, remembered by content hash.

Many variants of one image (grid thumbnail, product view, profile picture) cost one
detection: boxes are kept in a memory LRU and in the catalog, and concurrent requests for
one new original wait on the same detection. Only boxes and scores are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from focal.catalog import FaceBoxStore, StoredFaces
from focal.faces.detector import DEFAULT_SCORE_THRESHOLD, MODEL_PATH, FaceDetector, face_boxes
from focal.faces.workers import DetectionUnavailable, DetectorPool
from focal.pipeline import Box


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


def detector_identity(max_side: int) -> str:
    """Stored boxes are reused only by the same model, threshold and detection size."""
    checksum = MODEL_PATH.with_name(MODEL_PATH.name + ".sha256").read_text().split()[0]
    return f"retinaface-{checksum[:16]}-t{DEFAULT_SCORE_THRESHOLD}-s{max_side}"


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
    def __init__(self, pool: DetectorPool, store: FaceBoxStore | None, memory_size: int) -> None:
        self.pool = pool
        self.store = store
        self.memory_size = memory_size
        self._memory: OrderedDict[str, StoredFaces] = OrderedDict()
        self._pending: dict[str, asyncio.Future[FaceLookup]] = {}

    def _remember(self, key: str, stored: StoredFaces) -> None:
        self._memory[key] = stored
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_size:
            self._memory.popitem(last=False)

    async def locate(self, data: bytes, key: str) -> FaceLookup:
        """Faces of the original whose content hash is `key`."""
        stored = self._memory.get(key)
        if stored is not None:
            self._memory.move_to_end(key)
            return _lookup(stored, "memory")
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[FaceLookup] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            lookup = await self._find(data, key)
            future.set_result(lookup)
            return lookup
        except BaseException as error:
            future.set_exception(error)
            raise
        finally:
            del self._pending[key]
            if not future.done() or future.exception() is not None:
                future.exception()  # retrieved: the waiting requests got it already

    async def _find(self, data: bytes, key: str) -> FaceLookup:
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
