"""CORS by path: one-time upload URLs for any page by default, the API only if configured.

Starlette's CORSMiddleware has one policy for a whole app. A browser's direct creator upload
needs another policy than the token-protected API: the upload URL is itself the credential,
so any page may POST it (FOCAL_UPLOAD_CORS_ORIGINS, `*` by default), while pages may call
the API only from the origins FOCAL_API_CORS_ORIGINS names (none by default). This wrapper
hands each request to the policy of its path, and the others to the app untouched.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from focal.config import Settings

UPLOAD_PREFIX = "/upload/"  # the one-time upload URLs
PREFLIGHT_MAX_AGE = 600  # seconds a browser may keep a preflight's answer


def _policy(app: ASGIApp, origins: tuple[str, ...], methods: list[str]) -> CORSMiddleware | None:
    if not origins:
        return None
    return CORSMiddleware(
        app,
        allow_origins=list(origins),
        allow_methods=methods,
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Cf-Resized"],
        max_age=PREFLIGHT_MAX_AGE,
    )


class PathScopedCORS:
    """Upload URLs get the upload policy; every other path the API policy, if any."""

    def __init__(
        self, app: ASGIApp, upload_origins: tuple[str, ...], api_origins: tuple[str, ...]
    ) -> None:
        self.app = app
        self.upload = _policy(app, upload_origins, ["POST"])
        self.api = _policy(app, api_origins, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])

    @classmethod
    def options(cls, settings: Settings) -> dict[str, tuple[str, ...]]:
        """The keyword arguments of `app.add_middleware(PathScopedCORS, ...)`."""
        return {
            "upload_origins": settings.upload_cors_origins,
            "api_origins": settings.api_cors_origins,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            upload = str(scope.get("path", "")).startswith(UPLOAD_PREFIX)
            policy = self.upload if upload else self.api
            if policy is not None:
                await policy(scope, receive, send)
                return
        await self.app(scope, receive, send)
