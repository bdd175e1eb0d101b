"""AMF0, the encoding of RTMP's commands: the few types a publishing client sends."""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED, ECMA_ARRAY, OBJECT_END = 0, 1, 2, 3, 5, 6, 8, 9
STRICT_ARRAY, DATE, LONG_STRING = 10, 11, 12


class AMFError(ValueError):
    """The bytes are not AMF0 this server understands."""


def _string(data: bytes, at: int, long: bool = False) -> tuple[str, int]:
    width = 4 if long else 2
    if at + width > len(data):
        raise AMFError("truncated string length")
    length = int.from_bytes(data[at : at + width], "big")
    at += width
    if at + length > len(data):
        raise AMFError("truncated string")
    return data[at : at + length].decode("utf-8", "replace"), at + length


def _properties(data: bytes, at: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    while True:
        name, at = _string(data, at)
        if at < len(data) and data[at] == OBJECT_END and not name:
            return result, at + 1
        result[name], at = _value(data, at)


def _value(data: bytes, at: int) -> tuple[Any, int]:
    if at >= len(data):
        raise AMFError("truncated value")
    marker, at = data[at], at + 1
    if marker == NUMBER:
        if at + 8 > len(data):
            raise AMFError("truncated number")
        return struct.unpack(">d", data[at : at + 8])[0], at + 8
    if marker == BOOLEAN:
        return bool(data[at]), at + 1
    if marker == STRING:
        return _string(data, at)
    if marker == LONG_STRING:
        return _string(data, at, long=True)
    if marker == OBJECT:
        return _properties(data, at)
    if marker == ECMA_ARRAY:
        return _properties(data, at + 4)  # the count is a hint only
    if marker == STRICT_ARRAY:
        count, at = int.from_bytes(data[at : at + 4], "big"), at + 4
        items = []
        for _ in range(count):
            item, at = _value(data, at)
            items.append(item)
        return items, at
    if marker == DATE:
        return struct.unpack(">d", data[at : at + 8])[0], at + 10
    if marker in (NULL, UNDEFINED):
        return None, at
    raise AMFError(f"AMF0 type {marker} is not supported")


def decode(data: bytes) -> list[Any]:
    """Every value in `data`, in order."""
    values, at = [], 0
    while at < len(data):
        value, at = _value(data, at)
        values.append(value)
    return values


def _encode_string(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def _encode_one(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, bool):
        return bytes([BOOLEAN, int(value)])
    if isinstance(value, int | float):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        return bytes([STRING]) + _encode_string(value)
    if isinstance(value, dict):
        body = b"".join(_encode_string(str(k)) + _encode_one(v) for k, v in value.items())
        return bytes([OBJECT]) + body + b"\x00\x00" + bytes([OBJECT_END])
    raise TypeError(f"no AMF0 form for {type(value).__name__}")


def encode(*values: Any) -> bytes:
    return b"".join(_encode_one(value) for value in values)
