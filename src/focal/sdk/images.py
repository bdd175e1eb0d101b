"""`Images`: the entry point of the SDK, embedded (in this process) or remote (a server)."""

from __future__ import annotations

from types import TracebackType

from focal.errors import ErrorKind, FocalError
from focal.pipeline import Limits
from focal.sdk.backend import Backend
from focal.sdk.chain import Chain
from focal.sdk.embedded import EmbeddedBackend
from focal.sdk.hosted import HostedImages
from focal.sdk.inputs import DEFAULT_MAX_INPUT_BYTES, AnySource, ImageInput
from focal.sdk.remote import RemoteBackend
from focal.sdk.result import ImageInfo
from focal.sdk.signed_urls import sign_transformation


class Images:
    """Build image pipelines in code: `input() → transform() → draw() → output()`.

    `Images()` runs them in this process; `Images("http://host:8080", token="...")` sends
    them to a Focal server's `POST /transform`. The API and the output bytes are the same.
    `signing_key` (one of the server's FOCAL_URL_SIGNING_KEYS) lets `sign_url` make signed
    `/cdn-cgi/image/` URLs, in either mode: the key never leaves this process.
    Every method has an async form (`output_async`, `info_async`); close with `close()` /
    `aclose()` or use the instance as a (async) context manager.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
        limits: Limits | None = None,
        timeout: float = 120.0,
        signing_key: str | None = None,
    ) -> None:
        self.max_input_bytes = max_input_bytes
        self.signing_key = signing_key
        self._remote = (url, token, timeout)
        self._hosted: HostedImages | None = None
        self.backend: Backend = (
            EmbeddedBackend(limits or Limits())
            if url is None
            else RemoteBackend(url, token, timeout)
        )

    def input(self, source: AnySource) -> Chain:
        """Start a chain from bytes, a path, a binary file object or an (async) iterator of
        byte chunks; more than `max_input_bytes` is refused before it is read whole."""
        return Chain(self, ImageInput(source, self.max_input_bytes))

    def info(self, source: AnySource) -> ImageInfo:
        """Format (a media type), file size and size in pixels, from the header only."""
        return self.backend.info(ImageInput(source, self.max_input_bytes).data())

    async def info_async(self, source: AnySource) -> ImageInfo:
        data = await ImageInput(source, self.max_input_bytes).data_async()
        return await self.backend.info_async(data)

    def sign_url(
        self,
        options: str,
        source: str,
        expires_in: float = 3600,
        *,
        base_url: str | None = None,
    ) -> str:
        """A signed `/cdn-cgi/image/<options>/<source>` URL, valid for `expires_in` seconds.

        On the server of a remote instance, or `base_url`; embedded without `base_url`, the
        path alone. Signed with `Images(signing_key=...)`.
        """
        if not self.signing_key:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                "sign_url needs a URL signing key: Images(..., signing_key=<one of the "
                "server's FOCAL_URL_SIGNING_KEYS>)",
            )
        base = base_url if base_url is not None else (self._remote[0] or "")
        return sign_transformation(self.signing_key, options, source, expires_in, base)

    @property
    def is_remote(self) -> bool:
        """Whether this instance sends its work to a server."""
        return self._remote[0] is not None

    @property
    def hosted(self) -> HostedImages:
        """The hosted images API of the server this instance talks to (remote mode only)."""
        url, token, timeout = self._remote
        if url is None:
            raise FocalError(
                ErrorKind.BAD_REQUEST,
                "hosted images live on a server: use Images('http://host:8080', token=...)",
            )
        if self._hosted is None:
            self._hosted = HostedImages(url, token, timeout, self.max_input_bytes)
        return self._hosted

    def close(self) -> None:
        if self._hosted is not None:
            self._hosted.close()
        self.backend.close()

    async def aclose(self) -> None:
        await self.backend.aclose()

    def __enter__(self) -> Images:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Images:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
