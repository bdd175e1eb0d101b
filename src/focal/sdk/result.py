"""What the Images SDK gives back: an encoded image, or the facts about one."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.responses import Response


@dataclass(frozen=True)
class Result:
    """An encoded image: `content_type` (e.g. image/avif), its bytes, and its size."""

    content_type: str
    data: builtins.bytes
    width: int
    height: int

    def bytes(self) -> builtins.bytes:
        return self.data

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        """An ASGI response carrying the image (Starlette, as FastAPI handlers return)."""
        from starlette.responses import Response

        return Response(self.data, media_type=self.content_type, headers=dict(headers or {}))


@dataclass(frozen=True)
class ImageInfo:
    """`Images.info()`: the format (a media type), file size in bytes, and size in pixels."""

    format: str
    file_size: int
    width: int
    height: int

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file_size": self.file_size,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ImageInfo:
        return cls(
            format=str(document["format"]),
            file_size=int(document["file_size"]),
            width=int(document["width"]),
            height=int(document["height"]),
        )
