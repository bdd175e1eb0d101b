"""One transformation of one original by URL-form options; shared by the server and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from focal.config import Settings
from focal.options import Options
from focal.pipeline import (
    Limits,
    Output,
    SourceInfo,
    measure,
    probe,
    run,
    url_operations,
    url_output,
)
from focal.service.faces import FaceLookup
from focal.service.hints import ClientHints, for_client


def limits_from(settings: Settings, *, max_bytes: int | None = None) -> Limits:
    """The server's (and the CLI's) limits on an original and on one transformation: the one
    place settings become `Limits`. `max_bytes` for originals with a bound of their own
    (hosted uploads); else FOCAL_MAX_SOURCE_BYTES."""
    return Limits(
        max_bytes=settings.max_source_bytes if max_bytes is None else max_bytes,
        max_pixels=settings.max_pixels,
        max_side=settings.max_side,
        max_output_pixels=settings.max_output_pixels,
        max_gif_output_pixels=settings.max_gif_output_pixels,
        max_avif_pixels=settings.avif_max_pixels,
        transform_timeout=settings.transform_timeout,
    )


@dataclass(frozen=True)
class Described:
    """format=json: sizes, computed without encoding."""

    body: dict[str, Any]


def transform(
    data: bytes,
    options: Options,
    hints: ClientHints,
    limits: Limits,
    lookup: FaceLookup | None = None,
    source: SourceInfo | None = None,
) -> Output | Described:
    """`source`: the original's `probe`, when the caller checked it already (before faces)."""
    options = for_client(options, hints)
    faces = lookup.faces if lookup is not None else None
    source = source or probe(data, limits)
    operations = url_operations(options)
    if options.format == "json":
        width, height = measure(
            data, operations, source=source, faces=faces, anim=options.anim, limits=limits
        )
        body: dict[str, Any] = {
            "width": width,
            "height": height,
            "original": {
                "file_size": source.file_size,
                "format": source.format,
                "width": source.width,
                "height": source.height,
            },
        }
        if source.animated:
            body["original"]["frames"] = source.pages
        if lookup is not None and lookup.faces is not None:
            body["faces"] = lookup.describe()
        return Described(body)
    output = url_output(
        options,
        negotiated=hints.negotiated_format(animated=source.animated and options.anim),
        slow_connection=hints.slow_connection(),
    )
    return run(data, operations, output, source=source, faces=faces, limits=limits)


def read_and_transform(
    read: Callable[[], bytes], options: Options, hints: ClientHints, limits: Limits
) -> Output | Described:
    """`transform` of the bytes `read` gives, read on the calling (image) thread."""
    return transform(read(), options, hints, limits)
