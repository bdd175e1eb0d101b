"""A chain flattened for running: one list of operations and what to write, as JSON.

The Images SDK builds it from its tree of nodes; embedded mode runs it directly, remote mode
sends its JSON form (`to_json`) to `POST /transform`, which reads it back with `from_json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from focal.errors import OptionError
from focal.json_input import validated
from focal.options import options_from_mapping
from focal.pipeline.encode import MEDIA_TYPES
from focal.pipeline.executor import OutputSpec
from focal.pipeline.operations import Operation, operation_from_dict
from focal.pipeline.parameters import JSON

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
        chain = validated(_ChainDocument, document, "the operation list")
        output = chain.output
        spec = output_spec(output.format, output.quality, output.anim)
        return cls(tuple(operation_from_dict(item) for item in chain.operations), spec)


class _Document(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _OutputDocument(_Document):
    format: str | None = None
    quality: Any = None  # a number or a quality word, checked as the URL option is
    anim: bool = True

    @field_validator("quality")
    @classmethod
    def _number_or_word(cls, quality: Any) -> Any:
        if quality is not None and (
            isinstance(quality, bool) or not isinstance(quality, int | str)
        ):
            raise ValueError("should be a whole number or a quality word")
        return quality


class _ChainDocument(_Document):
    operations: list[Any]  # each checked by its operation's parameters
    output: _OutputDocument


# The multipart form of POST /transform and /info: one part per input image, in order, and
# (for /transform) one JSON part with the flattened chain.
CHAIN_PART = "chain"


def input_part(index: int) -> str:
    return f"input-{index}"
