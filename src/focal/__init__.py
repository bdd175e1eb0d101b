"""Focal: self-hosted image optimization and delivery with face-aware cropping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from focal.sdk import Images

__all__ = ["Images", "__version__"]


def __getattr__(name: str) -> Any:
    # `import focal` stays cheap: the SDK (and libvips with it) loads on first use.
    if name == "Images":
        from focal.sdk import Images

        return Images
    raise AttributeError(f"module 'focal' has no attribute {name!r}")
