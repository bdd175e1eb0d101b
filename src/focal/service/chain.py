"""The Images API's work: run a flattened chain, or describe an input, for the server.

The same pipeline as embedded mode (`run_composed`, `probe`), on the image threads and with
the server's limits, so that a chain gives the same bytes here as in the caller's process.
Callers hold an admission (`ImageJobs.admit`) from before reading the request.
"""

from __future__ import annotations

from typing import Any

from focal.pipeline import Output, probe
from focal.pipeline.compose import Faces, inputs_needing_faces, run_composed
from focal.pipeline.flat_chain import FlatChain
from focal.service.delivery import DeliveryService


async def run_chain(delivery: DeliveryService, inputs: list[bytes], chain: FlatChain) -> Output:
    faces: list[Faces] = [None] * len(inputs)
    for index in inputs_needing_faces(chain.operations):
        if index < len(inputs):
            faces[index] = (await delivery.locate_faces(inputs[index])).faces
    return await delivery.jobs.run(
        run_composed, inputs, chain.operations, chain.output, faces=faces, limits=delivery.limits
    )


def _describe(data: bytes, delivery: DeliveryService) -> dict[str, Any]:
    source = probe(data, delivery.limits)
    return {
        "format": source.format,
        "file_size": source.file_size,
        "width": source.width,
        "height": source.height,
    }


async def describe_input(delivery: DeliveryService, data: bytes) -> dict[str, Any]:
    return await delivery.jobs.run(_describe, data, delivery)
