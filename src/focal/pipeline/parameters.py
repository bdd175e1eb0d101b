"""How an operation's parameters are written as JSON and checked when read back.

An operation list travels as JSON (the Images SDK's remote mode), so every parameter has a
JSON form and a validation. Both reuse the option value types: a parameter that is also an
option (fit, gravity, background...) is spelled and range-checked exactly as in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from focal.errors import ErrorKind, FocalError
from focal.options import Color, Gravity, Trim
from focal.options.geometry_values import TRIM_KEYS, build_trim
from focal.options.values import ValueType, python_to_text

JSON = Any  # what json.loads can return


class Parameter:
    """One operation parameter: its JSON form, and the checked value read from it."""

    optional: bool = False  # null allowed, and what a missing one means

    def to_json(self, value: Any) -> JSON:
        raise NotImplementedError

    def from_json(self, name: str, raw: JSON) -> Any:
        raise NotImplementedError


def malformed(message: str) -> FocalError:
    return FocalError(ErrorKind.BAD_REQUEST, f"malformed operation list: {message}")


@dataclass(frozen=True)
class Scalar(Parameter):
    """A number, word, gravity or colour, checked by an option value type.

    Gravity and colours are written in their canonical URL spelling ("face", "#ff000080").
    """

    value: ValueType[Any]
    optional: bool = False  # None (JSON null) allowed

    def to_json(self, value: Any) -> JSON:
        if isinstance(value, Gravity | Color):
            return self.value.format(value)
        return value

    def from_json(self, name: str, raw: JSON) -> Any:
        if raw is None and self.optional:
            return None
        if not isinstance(raw, bool | int | float | str):
            raise malformed(f"{name} must be a number or a string, not {type(raw).__name__}")
        return self.value.parse(name, python_to_text(raw))


class TrimParameter(Parameter):
    """A trim, written as its URL keys: {"trim": "10;0;10;0"} or {"trim.top": 10, ...}."""

    def to_json(self, value: Trim) -> JSON:
        return dict(value.items())

    def from_json(self, name: str, raw: JSON) -> Trim:
        keys = set(TRIM_KEYS) | {"trim"}
        if not isinstance(raw, Mapping) or not set(raw) <= keys or not raw:
            raise malformed(f"{name} must be an object with keys among {', '.join(sorted(keys))}")
        trim = build_trim({key: python_to_text(value) for key, value in raw.items()})
        return trim if trim is not None else Trim()
