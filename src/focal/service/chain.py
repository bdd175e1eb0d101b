"""The Images API's work: run a flattened chain, or describe an input, for the server.

The same pipeline as embedded mode (`run_composed`, `probe`), on the image threads and with
the server's limits, so that a chain gives the same bytes here as in the caller's process.
Callers hold an admission (`ImageJobs.admit`) from before reading the request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from focal.pipeline import Output, probe
from focal.pipeline.compose import Faces, inputs_needing_faces, probe_inputs, run_composed
from focal.pipeline.flat_chain import FlatChain
from focal.service.delivery import DeliveryService
from focal.service.metering import transformation_key


def chain_key(inputs: list[bytes], chain: FlatChain) -> str:
    """What metering counts by: the inputs' contents and the chain, as a variant's key."""
    source = "inputs:" + ",".join(hashlib.sha256(data).hexdigest() for data in inputs)
    return transformation_key(source, json.dumps(chain.to_json(), sort_keys=True))


async def run_chain(delivery: DeliveryService, inputs: list[bytes], chain: FlatChain) -> Output:
    """Counted like a URL variant: once per 30 days, and only when it succeeds.

    The inputs' limits are checked first, from their headers: before detection decodes any.
    """
    metered = await asyncio.to_thread(chain_key, inputs, chain)
    await delivery.meter.check(metered)
    sources = await delivery.jobs.run(probe_inputs, inputs, delivery.limits)
    faces: list[Faces] = [None] * len(inputs)
    for index in inputs_needing_faces(chain.operations):
        if index < len(inputs):
            faces[index] = (await delivery.locate_faces(inputs[index])).faces
    output = await delivery.jobs.run(
        run_composed,
        inputs,
        chain.operations,
        chain.output,
        faces=faces,
        limits=delivery.limits,
        sources=sources,
    )
    await delivery.meter.count(metered)
    return output


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
