"""Reading JSON that clients send: strict JSON, bounded nesting, bodies checked by a schema.

Every place that parses client JSON (API bodies, form fields, the chain of POST /transform,
continuation tokens) reads it with `load_json`, so that no input within the byte limits can
make the parser, or the code that walks the result, recurse without bound.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from focal.errors import ErrorKind, FocalError

MAX_JSON_DEPTH = 32  # nested objects and arrays; the deepest real document (a chain) uses ~25
# A JSON string, escapes included; what is between strings holds every bracket that nests.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")

Model = TypeVar("Model", bound=BaseModel)


def _bad(what: str, message: str) -> FocalError:
    return FocalError(ErrorKind.BAD_REQUEST, f"{what} {message}")


def nesting_depth(text: str) -> int:
    """How deep objects and arrays nest in JSON text, found without parsing it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def load_json(data: str | bytes, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse client JSON; `what` names it in the 400 ("the body", "metadata").

    Refused: text that is not JSON, NaN and Infinity (not JSON either), and objects or arrays
    nested more than `max_depth` deep.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode(json.detect_encoding(data))
        except UnicodeDecodeError as error:
            raise _bad(what, f"is not JSON: {error}") from None
    if nesting_depth(data) > max_depth:
        raise _bad(what, f"nests objects and arrays more than {max_depth} deep: flatten it")
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError, and numbers over Python's digit limit
        raise _bad(what, f"is not JSON: {error}") from None


def validated(model: type[Model], document: Any, what: str) -> Model:
    """The document checked against its schema; the first problem is one 400 naming the field."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise _bad(what, _first_problem(model, error)) from None


def _first_problem(model: type[BaseModel], error: ValidationError) -> str:
    problem = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "extra_forbidden":
        return f"has an unknown field {field!r}"
    if problem["type"] == "missing":
        return f"has no {field!r}: it is required"
    if problem["type"] in ("model_type", "model_attributes_type", "dict_type"):
        expected = "should be a JSON object"  # pydantic's message names a Python class
        if not field:
            return f"{expected} with the fields {', '.join(model.model_fields)}"
    elif problem["type"] == "value_error":  # our validators' words, not pydantic's prefix
        expected = str(problem["ctx"]["error"])
    else:
        expected = problem["msg"].removeprefix("Input ")
    return f"{expected}" if not field else f"has a bad {field!r}: it {expected}"
