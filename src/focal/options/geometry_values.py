"""Value types with structure: gravity, rotation angles and trim rectangles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from focal.errors import OptionError
from focal.options.values import (
    Boolean,
    Color,
    ColorValue,
    Decimal,
    Integer,
    Markup,
    ValueType,
    format_number,
    parse_number,
    plain,
)


class GravityMode(StrEnum):
    """How a crop's place is found; the values of auto and face are their URL spellings."""

    POINT = "point"  # a fixed point (x, y): written as a side or XxY, never as "point"
    AUTO = "auto"  # libvips' attention strategy (saliency)
    FACE = "face"  # the faces a detector finds


@dataclass(frozen=True)
class Gravity:
    """Where a crop is centred: a detector (auto, face) or a point in 0-1 coordinates.

    A point (x, y) keeps the crop at that fraction of the cut-away remainder: 0x0 keeps the
    top-left corner, 1x1 the bottom-right, 0.5x0.5 the centre.
    """

    mode: GravityMode = GravityMode.POINT
    x: float = 0.5
    y: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", GravityMode(self.mode))  # Gravity(mode="face") too

    @property
    def uses_faces(self) -> bool:
        """Whether the image's faces must be found before it is cropped."""
        return self.mode is GravityMode.FACE


SIDES: Mapping[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
}
_SIDE_SYNONYMS = {"centre": "center", "centre-center": "center"}
CENTER = Gravity()
_DETECTORS = tuple(mode.value for mode in GravityMode if mode is not GravityMode.POINT)


class GravityValue(ValueType[Gravity]):
    def parse(self, name: str, text: str) -> Gravity:
        word = _SIDE_SYNONYMS.get(text.lower(), text.lower())
        if word in _DETECTORS:
            return Gravity(mode=GravityMode(word))
        if word in SIDES:
            x, y = SIDES[word]
            return Gravity(x=x, y=y)
        parts = word.split("x")
        if len(parts) == 2:
            coordinate = Decimal(0.0, 1.0)
            try:
                return Gravity(
                    x=coordinate.parse(name, parts[0]), y=coordinate.parse(name, parts[1])
                )
            except OptionError:
                pass
        raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")

    def format(self, value: Gravity) -> str:
        if value.mode is not GravityMode.POINT:
            return value.mode.value
        for side, point in SIDES.items():
            if point == (value.x, value.y):
                return side
        return f"{format_number(value.x)}x{format_number(value.y)}"

    def describe(self, code: Markup = plain) -> str:
        words = ", ".join(code(word) for word in (*_DETECTORS, *SIDES))
        return f"{words}, or {code('XxY')} with X and Y from 0 to 1"


class Angle(ValueType[int]):
    ANGLES = (0, 90, 180, 270)

    def parse(self, name: str, text: str) -> int:
        whole = parse_number(text) is not None and text.lstrip("-").isdigit()  # no "90.0"
        angle = Integer(-360, 360).parse(name, text) if whole else None
        if angle is None or angle % 90:
            raise OptionError(f"{name}={text!r} is not valid: expected {self.describe()}")
        return angle % 360

    def format(self, value: int) -> str:
        return str(value)

    def describe(self, code: Markup = plain) -> str:
        return f"{code('90')}, {code('180')} or {code('270')} (degrees clockwise)"


# --- trim ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrimBorder:
    """Cut away a uniform border: `color` None means the colour of the top-left pixel."""

    color: Color | None = None
    tolerance: float = 0.0
    keep: int = 0


@dataclass(frozen=True)
class Trim:
    """Pixels to cut from each side before anything else; values below 1 are fractions.

    Either sides (top, right, bottom, left), or top/left with width/height of the kept area,
    or a detected uniform border.
    """

    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    width: float | None = None
    height: float | None = None
    border: TrimBorder | None = None

    def items(self) -> list[tuple[str, str]]:
        """Canonical key=value pairs, as they would be written in a URL."""
        if self.border is not None:
            pairs = [("trim", "border")]
            if self.border.color is not None:
                pairs.append(("trim.border.color", str(self.border.color)))
            if self.border.tolerance:
                pairs.append(("trim.border.tolerance", format_number(self.border.tolerance)))
            if self.border.keep:
                pairs.append(("trim.border.keep", str(self.border.keep)))
            return pairs
        if self.width is None and self.height is None:
            sides = (self.top, self.right, self.bottom, self.left)
            return [("trim", ";".join(format_number(side) for side in sides))]
        named = {
            "trim.top": self.top,
            "trim.left": self.left,
            "trim.right": self.right,
            "trim.bottom": self.bottom,
            "trim.width": self.width,
            "trim.height": self.height,
        }
        return [(key, format_number(value)) for key, value in named.items() if value]


TRIM_KEYS = (
    "trim.top",
    "trim.right",
    "trim.bottom",
    "trim.left",
    "trim.width",
    "trim.height",
    "trim.border",
    "trim.border.color",
    "trim.border.tolerance",
    "trim.border.keep",
)
_LENGTH = Decimal(0.0, 100_000.0)
_TOLERANCE = Decimal(0.0, 255.0)
_KEEP = Integer(0, 100_000)


def build_trim(parts: Mapping[str, str]) -> Trim | None:
    """A Trim from every trim key of one option string ('trim' and 'trim.*')."""
    main = parts.get("trim")
    border_keys = {key for key in parts if key.startswith("trim.border")}
    wants_border = (main is not None and main.lower() == "border") or bool(border_keys)
    if "trim.border" in parts and not Boolean().parse("trim.border", parts["trim.border"]):
        wants_border = bool(border_keys - {"trim.border"})
    if wants_border:
        side_keys = sorted(set(parts) - border_keys - {"trim"})
        if side_keys:
            raise OptionError(
                f"trim=border cannot be combined with {', '.join(side_keys)}: "
                "trim either a detected border or given sides"
            )
        color_text = parts.get("trim.border.color")
        return Trim(
            border=TrimBorder(
                color=ColorValue().parse("trim.border.color", color_text) if color_text else None,
                tolerance=_TOLERANCE.parse(
                    "trim.border.tolerance", parts.get("trim.border.tolerance", "0")
                ),
                keep=_KEEP.parse("trim.border.keep", parts.get("trim.border.keep", "0")),
            )
        )
    values: dict[str, float] = {}
    if main is not None:
        sides = main.split(";")
        if len(sides) != 4:
            raise OptionError(
                f"trim={main!r} is not valid: expected border, or top;right;bottom;left "
                "in pixels or as fractions below 1 (e.g. trim=20;0;20;0)"
            )
        for side, text in zip(("top", "right", "bottom", "left"), sides, strict=True):
            values[side] = _LENGTH.parse(f"trim ({side})", text)
    for key, text in parts.items():
        if key in ("trim", "trim.border"):  # trim.border=false: no border, only sides
            continue
        side = key.removeprefix("trim.")
        if side in values:
            raise OptionError(f"trim {side} is given twice; give it once")
        values[side] = _LENGTH.parse(key, text)
    if "width" in values and "right" in values:
        raise OptionError("trim.width and trim.right cannot both be given: they say the same")
    if "height" in values and "bottom" in values:
        raise OptionError("trim.height and trim.bottom cannot both be given: they say the same")
    for key in ("width", "height"):
        if key in values and values[key] == 0:
            raise OptionError(f"trim.{key}=0 would leave nothing: give a size above 0")
    trim = Trim(**values)  # type: ignore[arg-type]
    return None if trim == Trim() else trim


class TrimValue(ValueType[Trim]):
    """Trim's main key; its sub-keys are gathered by the parser and passed to build_trim."""

    def parse(self, name: str, text: str) -> Trim:
        trim = build_trim({"trim": text})
        return trim if trim is not None else Trim()

    def format(self, value: Trim) -> str:
        return ",".join(f"{key}={text}" for key, text in value.items())

    def describe(self, code: Markup = plain) -> str:
        sides = "/".join(code(key) for key in TRIM_KEYS[:6])
        return (
            f"{code('border')}, or {code('top;right;bottom;left')} (pixels, or fractions "
            f"below 1); or {sides}; {code('trim.border.color')}, "
            f"{code('trim.border.tolerance')} (0-255), {code('trim.border.keep')} (pixels)"
        )
