"""Face detection by a detector service (`focal detector serve`) over HTTP.

A server with FOCAL_DETECTOR_URL sends each new original's bytes to that service instead of
its own worker processes, so a fleet can share one detector (one GPU). Every failure — the
service down, slow past the timeout, answering an error — is a `DetectionUnavailable`, which
callers answer with centre gravity, exactly as when a local worker fails.
"""

from __future__ import annotations

import httpx

from focal.faces.workers import DetectionResult, DetectionUnavailable

DETECT_PATH = "/detect"
HEALTH_PATH = "/healthz"


class RemoteDetector:
    """The detector service as a drop-in for `DetectorPool` where the locator and readiness
    use it: `detect`, `start`, `state`, `start_failure`, `tasks_run`, `aclose`."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self._tasks_run = 0
        self._last_failure: str | None = None
        self._closed = False

    @property
    def tasks_run(self) -> int:
        """Detections asked of the service so far (including ones that failed)."""
        return self._tasks_run

    @property
    def state(self) -> str:
        """warm once the service has answered, unavailable after a failed call, cold before."""
        if self._closed or self._last_failure is not None:
            return "unavailable"
        return "warm" if self._tasks_run else "cold"

    @property
    def start_failure(self) -> str | None:
        return "the face detector client is closed" if self._closed else self._last_failure

    def start(self, wait_ready: bool = False) -> None:
        """Nothing to start here: the service runs on its own."""

    async def detect(self, data: bytes) -> DetectionResult:
        if self._closed:
            raise DetectionUnavailable("the face detector client is closed")
        self._tasks_run += 1
        try:
            response = await self._client.post(
                self.url + DETECT_PATH,
                content=data,
                headers={"content-type": "application/octet-stream"},
            )
        except httpx.TimeoutException:
            reason = f"the face detector at {self.url} took longer than {self.timeout:g}s"
            raise self._failed(reason) from None
        except httpx.HTTPError as error:
            reason = f"the face detector at {self.url} is unreachable: {error}"
            raise self._failed(reason) from None
        if response.status_code != 200:
            raise self._failed(
                f"the face detector at {self.url} answered {response.status_code}: "
                f"{response.text[:200]}",
                # The image itself was refused (4xx): the service is fine.
                service_down=response.status_code >= 500,
            )
        try:
            result = DetectionResult.from_dict(response.json())
        except (ValueError, KeyError, TypeError) as error:
            reason = f"the face detector at {self.url} sent an unreadable answer: {error}"
            raise self._failed(reason) from None
        self._last_failure = None
        return result

    def _failed(self, reason: str, service_down: bool = True) -> DetectionUnavailable:
        if service_down:
            self._last_failure = reason
        return DetectionUnavailable(reason)

    async def aclose(self) -> None:
        self._closed = True
        await self._client.aclose()
