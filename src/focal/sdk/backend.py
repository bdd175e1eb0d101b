"""Where a flattened chain runs: in this process, or on a Focal server. Same answers."""

from __future__ import annotations

from typing import Protocol

from focal.pipeline.flat_chain import FlatChain
from focal.sdk.result import ImageInfo, Result


class Backend(Protocol):
    def transform(self, inputs: list[bytes], chain: FlatChain) -> Result: ...

    async def transform_async(self, inputs: list[bytes], chain: FlatChain) -> Result: ...

    def info(self, data: bytes) -> ImageInfo: ...

    async def info_async(self, data: bytes) -> ImageInfo: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
