"""Client JSON: nesting bounded before parsing, strict JSON, schema problems in one message."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from focal.errors import ErrorKind, FocalError
from focal.json_input import MAX_JSON_DEPTH, load_json, nesting_depth, validated


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[{{{"}], "c": "\\"]]"}') == 3
    assert nesting_depth("[]" * 10_000) == 1
    assert nesting_depth("42") == 0


def test_nesting_at_the_limit_parses_and_one_deeper_is_refused() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(at_limit, "the body") is not None
    with pytest.raises(FocalError) as refused:
        load_json("[" + at_limit + "]", "the body")
    assert refused.value.kind is ErrorKind.BAD_REQUEST
    assert f"the body nests objects and arrays more than {MAX_JSON_DEPTH} deep" in str(
        refused.value
    )


def test_far_too_deep_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(FocalError, match="deep"):
        load_json(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "the body")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "{oops", "1" * 5000])
def test_what_is_not_json_is_a_400(text: str) -> None:
    with pytest.raises(FocalError, match="metadata is not JSON") as refused:
        load_json(text, "metadata")
    assert refused.value.kind is ErrorKind.BAD_REQUEST


def test_bytes_are_read_in_the_encoding_they_are_in() -> None:
    assert load_json('{"é": [1]}'.encode("utf-16"), "the body") == {"é": [1]}
    with pytest.raises(FocalError, match="not JSON"):
        load_json(b'{"a": "\xff"}', "the body")


class _Thing(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    size: int = 1


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"size": True}, "the thing has a bad 'size': it should be a valid integer"),
        ({"colour": 1}, "the thing has an unknown field 'colour'"),
        ([1], "the thing should be a JSON object with the fields size"),
    ],
)
def test_schema_problems_name_the_field(document: object, message: str) -> None:
    with pytest.raises(FocalError) as refused:
        validated(_Thing, document, "the thing")
    assert refused.value.message == message
    assert refused.value.kind is ErrorKind.BAD_REQUEST
