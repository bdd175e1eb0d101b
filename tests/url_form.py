"""Running URL-form options through the pipeline, the way the service does; for the tests."""

from __future__ import annotations

import pyvips

from focal.options import parse_options
from focal.pipeline import Limits, Output, measure, run, url_operations, url_output
from imaging import (
    decode,
    gradient,
    png,
)

TOLERANCE = 2.5  # mean absolute difference (0-255) between two renderings of one region
WRONG = 6.0  # a region 20 px or more away from the right one differs by at least this much


def apply(data: bytes, text: str, limits: Limits | None = None) -> Output:
    """Run URL-form options on an original, the way the service does for one request (with
    an explicit format: format=auto is the service's to negotiate, see tests/service)."""
    options = parse_options(text)
    return run(data, url_operations(options), url_output(options), limits=limits)


def render(data: bytes, text: str) -> pyvips.Image:
    return decode(apply(data, text).data)


def sizes_of(data: bytes, text: str) -> tuple[int, int]:
    """What format=json reports: the output size, computed without encoding."""
    options = parse_options(text)
    return measure(data, url_operations(options), anim=options.anim)




def half_transparent(width: int = 200, height: int = 100) -> bytes:
    """An RGBA PNG: a gradient whose left half is fully transparent."""
    image = gradient(width, height)
    alpha = (pyvips.Image.xyz(width, height)[0] >= width // 2).ifthenelse(255, 0)
    return png(image.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb"))




def magic_format(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] == b"GIF8":
        return "gif"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "avif"
    return "unknown"
