"""The HTTP layer: a thin ASGI app over the service."""

from focal.server.app import create_app

__all__ = ["create_app"]
