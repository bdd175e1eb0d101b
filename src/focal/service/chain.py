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

from focal.pipeline import Limits, Output, probe
from focal.pipeline.compose import Faces, inputs_needing_faces, probe_inputs, run_composed
from focal.pipeline.flat_chain import FlatChain
from focal.service.faces import FaceLocator
from focal.service.jobs import ImageJobs
from focal.service.metering import Meter, transformation_key


def chain_key(inputs: list[bytes], chain: FlatChain) -> str:
    """What metering counts by: the inputs' contents and the chain, as a variant's key."""
    source = "inputs:" + ",".join(hashlib.sha256(data).hexdigest() for data in inputs)
    return transformation_key(source, json.dumps(chain.to_json(), sort_keys=True))


class ChainService:
    """Runs flattened chains and describes inputs, with the server's limits and meter."""

    def __init__(self, jobs: ImageJobs, limits: Limits, meter: Meter, faces: FaceLocator) -> None:
        self.jobs = jobs
        self.limits = limits
        self.meter = meter
        self.faces = faces

    async def run(self, inputs: list[bytes], chain: FlatChain) -> Output:
        """Counted like a URL variant: once per 30 days, and only when it succeeds.

        The inputs' limits are checked first, from their headers: before detection decodes any.
        """
        metered = await asyncio.to_thread(chain_key, inputs, chain)
        await self.meter.check(metered)
        sources = await self.jobs.run(probe_inputs, inputs, self.limits)
        faces: list[Faces] = [None] * len(inputs)
        for index in inputs_needing_faces(chain.operations):
            if index < len(inputs):
                faces[index] = (await self.faces.locate(inputs[index])).faces
        output = await self.jobs.run(
            run_composed,
            inputs,
            chain.operations,
            chain.output,
            faces=faces,
            limits=self.limits,
            sources=sources,
        )
        await self.meter.count(metered)
        return output

    async def describe(self, data: bytes) -> dict[str, Any]:
        """Format, file size and size of one input, from its header."""
        return await self.jobs.run(_describe, data, self.limits)


def _describe(data: bytes, limits: Limits) -> dict[str, Any]:
    source = probe(data, limits)
    return {
        "format": source.format,
        "file_size": source.file_size,
        "width": source.width,
        "height": source.height,
    }
