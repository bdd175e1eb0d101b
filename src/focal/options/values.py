"""Value types of transformation options: each parses one URL string and prints it back.

A value type knows its own range, so an option's declaration carries everything needed to
parse, validate, print canonically and document it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, Literal, TypeVar

import webcolors

from focal.errors import OptionError

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
# How a description marks a literal a user types (a word, a key): plain in error messages,
# as code in the README's option reference.
Markup = Callable[[str], str]


def plain(text: str) -> str:
    return text


class ValueType(Generic[T]):
    """Parses a URL string into a value and prints a value back in canonical form."""

    def parse(self, name: str, text: str) -> T:
        raise NotImplementedError

    def format(self, value: T) -> str:
        raise NotImplementedError

    def describe(self, code: Markup = plain) -> str:
        """The values allowed, in words; `code` marks what is typed as it is typed."""
        raise NotImplementedError


# A decimal number in ASCII, as URLs and CSS write it. float() alone would also take other
# scripts' digits (٣, ５), underscores (1_000), "inf" and "nan".
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str) -> float | None:
    """The finite number an option value spells, or None; every number option reads this."""
    text = text.strip(" ")
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    """Shortest exact text for a number: 2.0 -> '2', 0.50 -> '0.5'."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True)
class Integer(ValueType[int]):
    low: int
    high: int
    words: Mapping[str, int] | None = None  # named values, e.g. quality=high

    def parse(self, name: str, text: str) -> int:
        if self.words and text.lower() in self.words:
            return self.words[text.lower()]
        number = parse_number(text)
        if number is None or not number.is_integer() or not self.low <= number <= self.high:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")
        return int(number)

    def format(self, value: int) -> str:
        return str(value)

    def describe(self, code: Markup = plain) -> str:
        text = f"a whole number from {self.low} to {self.high}"
        if self.words:
            named = (f"{code(word)} ({number})" for word, number in self.words.items())
            text += " or one of " + ", ".join(named)
        return text


@dataclass(frozen=True)
class Decimal(ValueType[float]):
    low: float
    high: float
    low_open: bool = False  # True: the low bound itself is not allowed

    def parse(self, name: str, text: str) -> float:
        number = parse_number(text)
        too_low = number is not None and (
            number < self.low or (self.low_open and number == self.low)
        )
        if number is None or too_low or number > self.high:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")
        return number

    def format(self, value: float) -> str:
        return format_number(value)

    def describe(self, code: Markup = plain) -> str:
        low = f"more than {format_number(self.low)}" if self.low_open else format_number(self.low)
        return f"a number from {low} to {format_number(self.high)}"


@dataclass(frozen=True)
class Choice(ValueType[str]):
    choices: tuple[str, ...]
    synonyms: Mapping[str, str] | None = None

    def parse(self, name: str, text: str) -> str:
        word = text.lower()
        if self.synonyms and word in self.synonyms:
            word = self.synonyms[word]
        if word not in self.choices:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")
        return word

    def format(self, value: str) -> str:
        return value

    def describe(self, code: Markup = plain) -> str:
        return "one of " + ", ".join(code(choice) for choice in self.choices)


@dataclass(frozen=True)
class EnumChoice(ValueType[E]):
    """One word of a str-valued enum; its values are the public spellings."""

    kind: type[E]
    synonyms: Mapping[str, str] | None = None

    def parse(self, name: str, text: str) -> E:
        word = text.lower()
        if self.synonyms and word in self.synonyms:
            word = self.synonyms[word]
        try:
            return self.kind(word)
        except ValueError:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}") from None

    def format(self, value: E) -> str:
        return str(value.value)

    def describe(self, code: Markup = plain) -> str:
        return "one of " + ", ".join(code(member.value) for member in self.kind)


class Boolean(ValueType[bool]):
    TRUE = ("true", "1", "yes")
    FALSE = ("false", "0", "no")

    def parse(self, name: str, text: str) -> bool:
        word = text.lower()
        if word in self.TRUE:
            return True
        if word in self.FALSE:
            return False
        raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")

    def format(self, value: bool) -> str:
        return "true" if value else "false"

    def describe(self, code: Markup = plain) -> str:
        return f"{code('true')} or {code('false')}"


AUTO: Final = "auto"
Auto = Literal["auto"]


@dataclass(frozen=True)
class Size(ValueType["int | Auto"]):
    """A pixel size; with `auto`, also the word auto (chosen later from the client's hints)."""

    high: int
    auto: bool = False

    def parse(self, name: str, text: str) -> int | Auto:
        if self.auto and text.lower() == AUTO:
            return AUTO
        try:
            return Integer(1, self.high).parse(name, text)
        except OptionError:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}") from None

    def format(self, value: int | Auto) -> str:
        return str(value)

    def describe(self, code: Markup = plain) -> str:
        text = f"a whole number of pixels from 1 to {self.high}"
        return f"{text}, or {code(AUTO)}" if self.auto else text


# --- colours -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Color:
    """An sRGB colour with alpha, channels 0-255."""

    red: int
    green: int
    blue: int
    alpha: int = 255

    @property
    def opaque(self) -> bool:
        return self.alpha == 255

    def rgba(self) -> list[float]:
        return [float(self.red), float(self.green), float(self.blue), float(self.alpha)]

    def __str__(self) -> str:
        text = f"#{self.red:02x}{self.green:02x}{self.blue:02x}"
        return text if self.opaque else text + f"{self.alpha:02x}"


# The one colour name CSS Color 4 added, which webcolors (CSS3 names) does not know.
_CSS4_NAMES = {"rebeccapurple": (102, 51, 153)}
_FUNCTIONAL = re.compile(r"^(rgba?)\((.*)\)$")


def _channel(part: str, *, alpha: bool) -> int | None:
    part = part.strip()
    percent = part.endswith("%")
    number = parse_number(part[:-1] if percent else part)
    if number is None:
        return None
    # 255 / 100 as a factor would make 50% 127.49999...: multiply first, then divide
    value = number * 255 / 100 if percent else number * (255 if alpha else 1)
    if not 0 <= value <= 255:
        return None
    return math.floor(value + 0.5)  # half up, as browsers do: rgb(50%, ...) is 128


def parse_color(text: str) -> Color | None:
    """CSS colour: a name, #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(...) or rgba(...)."""
    word = text.strip().lower()
    match = _FUNCTIONAL.match(word)
    if match:
        parts = re.split(r"[,\s/]+", match.group(2).strip())
        if len(parts) not in (3, 4):
            return None
        channels = [_channel(part, alpha=False) for part in parts[:3]]
        alpha = _channel(parts[3], alpha=True) if len(parts) == 4 else 255
        if alpha is None or any(channel is None for channel in channels):
            return None
        red, green, blue = (int(channel or 0) for channel in channels)
        return Color(red, green, blue, alpha)
    if word.startswith("#") and len(word) in (5, 9) and _is_hex(word[1:]):
        digits = word[1:]
        if len(digits) == 4:
            digits = "".join(char * 2 for char in digits)
        red, green, blue, alpha = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
        return Color(red, green, blue, alpha)
    if word == "transparent":
        return Color(0, 0, 0, 0)
    if word in _CSS4_NAMES:
        return Color(*_CSS4_NAMES[word])
    try:
        rgb = webcolors.hex_to_rgb(word) if word.startswith("#") else webcolors.name_to_rgb(word)
    except ValueError:
        return None
    return Color(rgb.red, rgb.green, rgb.blue)


def _is_hex(digits: str) -> bool:
    return all(char in "0123456789abcdef" for char in digits)


class ColorValue(ValueType[Color]):
    def parse(self, name: str, text: str) -> Color:
        color = parse_color(text)
        if color is None:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")
        return color

    def format(self, value: Color) -> str:
        return str(value)

    def describe(self, code: Markup = plain) -> str:
        spellings = ("#rgb", "#rgba", "#rrggbb", "#rrggbbaa", "rgb(r,g,b)", "rgba(r,g,b,a)")
        return f"a CSS colour: a name, {', '.join(code(s) for s in spellings[:-1])} or " + code(
            spellings[-1]
        )


def python_to_text(value: Any) -> str:
    """The URL spelling of a value given in code (SDK form)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, Color):
        return str(value)
    return str(value)
