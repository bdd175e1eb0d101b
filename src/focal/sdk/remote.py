"""Remote mode: the flattened chain and its images go to a Focal server as one multipart form.

`POST /transform` answers with the encoded image; `POST /info` with JSON. A failure comes
back as the server's error (its `Cf-Resized: err=<code>` and message) and is raised as the
same exception type the embedded mode raises.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from focal.errors import ErrorKind, FocalError, OptionError
from focal.pipeline.flat_chain import CHAIN_PART, FlatChain, input_part
from focal.sdk.result import ImageInfo, Result

Files = list[tuple[str, tuple[str | None, bytes, str]]]


def _files(inputs: list[bytes], chain: FlatChain | None = None) -> Files:
    files: Files = [
        (input_part(index), (input_part(index), data, "application/octet-stream"))
        for index, data in enumerate(inputs)
    ]
    if chain is not None:
        document = json.dumps(chain.to_json()).encode()
        files.append((CHAIN_PART, (None, document, "application/json")))
    return files


def error_for(code: object, status: int, message: str) -> FocalError:
    """The exception a server's error stands for: its kind found by code and status."""
    for kind in ErrorKind:
        if str(kind.code) != str(code) or kind.status != status:
            continue
        return OptionError(message) if kind is ErrorKind.BAD_OPTIONS else FocalError(kind, message)
    return FocalError(
        ErrorKind.ORIGIN_DOWN,
        f"the Focal server answered {status}: {message[:200] or '(no message)'}",
    )


def error_from_response(response: httpx.Response) -> FocalError:
    """The exception a plain-text error answer (`Cf-Resized: err=<code>`) stands for."""
    code = response.headers.get("cf-resized", "").removeprefix("err=")
    return error_for(code, response.status_code, response.text.strip())


def _result(response: httpx.Response) -> Result:
    if response.status_code != 200:
        raise error_from_response(response)
    return Result(
        content_type=response.headers["content-type"],
        data=response.content,
        width=int(response.headers["focal-width"]),
        height=int(response.headers["focal-height"]),
    )


def _info(response: httpx.Response) -> ImageInfo:
    if response.status_code != 200:
        raise error_from_response(response)
    return ImageInfo.from_json(response.json())


def _unreachable(url: str, error: httpx.HTTPError) -> FocalError:
    return FocalError(ErrorKind.ORIGIN_DOWN, f"could not reach the Focal server at {url}: {error}")


class RemoteBackend:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client_options: dict[str, Any] = {
            "base_url": self.url,
            "headers": headers,
            "timeout": timeout,
        }
        self._client: httpx.Client | None = None
        # An async client belongs to the event loop it was first used on.
        self._async_client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None

    def _sync(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(**self._client_options)
        return self._client

    def _async(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_client[0] is not loop:
            self._async_client = (loop, httpx.AsyncClient(**self._client_options))
        return self._async_client[1]

    def _post(self, path: str, files: Files) -> httpx.Response:
        try:
            return self._sync().post(path, files=files)
        except httpx.HTTPError as error:
            raise _unreachable(self.url, error) from None

    async def _post_async(self, path: str, files: Files) -> httpx.Response:
        try:
            return await self._async().post(path, files=files)
        except httpx.HTTPError as error:
            raise _unreachable(self.url, error) from None

    def transform(self, inputs: list[bytes], chain: FlatChain) -> Result:
        return _result(self._post("/transform", _files(inputs, chain)))

    async def transform_async(self, inputs: list[bytes], chain: FlatChain) -> Result:
        return _result(await self._post_async("/transform", _files(inputs, chain)))

    def info(self, data: bytes) -> ImageInfo:
        return _info(self._post("/info", _files([data])))

    async def info_async(self, data: bytes) -> ImageInfo:
        return _info(await self._post_async("/info", _files([data])))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        self.close()
        if self._async_client is not None:
            await self._async_client[1].aclose()
            self._async_client = None
