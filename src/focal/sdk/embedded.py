"""Embedded mode: chains run in this process, through the same pipeline the server runs."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from focal.pipeline import Limits, probe
from focal.pipeline.compose import Faces, inputs_needing_faces, probe_inputs, run_composed
from focal.pipeline.flat_chain import FlatChain
from focal.sdk.result import ImageInfo, Result

if TYPE_CHECKING:
    from focal.faces.detector import FaceDetector


class EmbeddedBackend:
    def __init__(self, limits: Limits, detect_max_side: int | None = None) -> None:
        """`detect_max_side`: None is the detector's own default, as a server's."""
        self.limits = limits
        self.detect_max_side = detect_max_side
        self._detector: FaceDetector | None = None
        self._detector_lock = threading.Lock()

    def _detector_for_faces(self) -> FaceDetector:
        # Loaded on first gravity=face only: most chains never need the model.
        with self._detector_lock:
            if self._detector is None:
                from focal.faces.detector import FaceDetector

                if self.detect_max_side is None:
                    self._detector = FaceDetector(limits=self.limits)
                else:
                    self._detector = FaceDetector(max_side=self.detect_max_side, limits=self.limits)
            return self._detector

    def _faces(self, inputs: list[bytes], chain: FlatChain) -> list[Faces]:
        """Faces of the inputs that need them; the inputs' limits were checked first."""
        faces: list[Faces] = [None] * len(inputs)
        for index in inputs_needing_faces(chain.operations):
            if index < len(inputs):
                from focal.faces.detector import face_boxes  # the faces extra, only here

                found, _, _ = self._detector_for_faces().detect_bytes(inputs[index])
                faces[index] = face_boxes(found)
        return faces

    def transform(self, inputs: list[bytes], chain: FlatChain) -> Result:
        sources = probe_inputs(inputs, self.limits)  # before any decode, detection included
        faces = self._faces(inputs, chain)
        output = run_composed(
            inputs, chain.operations, chain.output, faces=faces, limits=self.limits, sources=sources
        )
        return Result(output.media_type, output.data, output.width, output.height)

    async def transform_async(self, inputs: list[bytes], chain: FlatChain) -> Result:
        return await asyncio.to_thread(self.transform, inputs, chain)

    def info(self, data: bytes) -> ImageInfo:
        source = probe(data, self.limits)
        return ImageInfo(source.format, source.file_size, source.width, source.height)

    async def info_async(self, data: bytes) -> ImageInfo:
        return await asyncio.to_thread(self.info, data)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
