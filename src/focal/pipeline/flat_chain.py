"""A chain flattened for running: one list of operations and what to write, as JSON.

The Images SDK builds it from its tree of nodes; embedded mode runs it directly, remote mode
sends its JSON form (`to_json`) to `POST /transform`, which reads it back with `from_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from focal.errors import OptionError
from focal.options import options_from_mapping
from focal.pipeline.encode import MEDIA_TYPES
from focal.pipeline.executor import OutputSpec
from focal.pipeline.operations import Operation, operation_from_dict
from focal.pipeline.parameters import JSON, malformed

_FORMATS_BY_MEDIA_TYPE = {media_type: fmt for fmt, media_type in MEDIA_TYPES.items()}
_FORMATS_BY_MEDIA_TYPE["image/jpeg"] = "jpeg"


def output_spec(
    format: str | None, quality: int | str | None = None, anim: bool = True
) -> OutputSpec:
    """What `output()` asks for, checked as the URL options format, quality and anim are.

    `format` is required: a media type (image/avif) or a format name (avif).
    """
    writable = ", ".join(sorted(_FORMATS_BY_MEDIA_TYPE))
    if not format:
        raise OptionError(f"output() needs a format: one of {writable}")
    name = _FORMATS_BY_MEDIA_TYPE.get(format.strip().lower(), format.strip().lower())
    if name not in MEDIA_TYPES:
        raise OptionError(f"output format {format!r} cannot be written; use one of {writable}")
    options = options_from_mapping({"format": name, "quality": quality, "anim": anim})
    return OutputSpec(format=options.format, quality=options.quality, anim=options.anim)


@dataclass(frozen=True)
class FlatChain:
    operations: tuple[Operation, ...]
    output: OutputSpec

    def to_json(self) -> dict[str, JSON]:
        return {
            "operations": [op.to_dict() for op in self.operations],
            "output": {
                "format": self.output.format,
                "quality": self.output.quality,
                "anim": self.output.anim,
            },
        }

    @classmethod
    def from_json(cls, document: JSON) -> FlatChain:
        """Read back `to_json`'s form; anything malformed is the caller's 400."""
        if not isinstance(document, Mapping) or set(document) != {"operations", "output"}:
            raise malformed('expected an object with "operations" and "output"')
        operations, output = document["operations"], document["output"]
        if not isinstance(operations, list):
            raise malformed('"operations" must be a list')
        if not isinstance(output, Mapping) or not set(output) <= {"format", "quality", "anim"}:
            raise malformed('"output" must be an object with format, quality and anim')
        spec = output_spec(**_output_arguments(output))
        return cls(tuple(operation_from_dict(item) for item in operations), spec)


def _output_arguments(output: Mapping[str, Any]) -> dict[str, Any]:
    format, quality, anim = output.get("format"), output.get("quality"), output.get("anim", True)
    if not isinstance(format, str | None) or not isinstance(anim, bool):
        raise malformed('bad "output" format or anim')
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int | str)):
        raise malformed('bad "output" quality')
    return {"format": format, "quality": quality, "anim": anim}


# The multipart form of POST /transform and /info: one part per input image, in order, and
# (for /transform) one JSON part with the flattened chain.
CHAIN_PART = "chain"


def input_part(index: int) -> str:
    return f"input-{index}"
