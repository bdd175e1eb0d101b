"""The transformation options: one declaration per option, from which all else follows.

Each field of `Options` carries its public name, aliases, value type and documentation;
parsing, validation, the canonical form and the option reference are derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from focal.options.geometry_values import CENTER, Angle, Gravity, GravityValue, Trim, TrimValue
from focal.options.values import (
    Boolean,
    Choice,
    Color,
    ColorValue,
    Decimal,
    Integer,
    Size,
    ValueType,
)

MAX_SIDE = 12_000
FITS = ("scale-down", "contain", "cover", "crop", "aspect-crop", "pad", "squeeze", "scale-up")
FORMATS = ("auto", "avif", "webp", "jpeg", "baseline-jpeg", "png", "gif", "json")
QUALITY_WORDS = {"high": 90, "medium-high": 80, "medium-low": 65, "low": 50}
_QUALITY = Integer(1, 100, QUALITY_WORDS)
_FACTOR = Decimal(0.0, 10.0)


@dataclass(frozen=True)
class OptionSpec:
    """The declaration of one option."""

    attribute: str
    name: str
    aliases: tuple[str, ...]
    value: ValueType[Any]
    doc: str


def option(default: Any, *aliases: str, value: ValueType[Any], doc: str, name: str = "") -> Any:
    """Declare an option as a dataclass field; its name defaults to the field's, with dashes."""
    return field(
        default=default,
        metadata={"option": {"name": name, "aliases": aliases, "value": value, "doc": doc}},
    )


@dataclass(frozen=True)
class Options:
    """One validated, normalized, immutable set of transformation options."""

    width: int | str | None = option(
        None, "w", value=Size(MAX_SIDE), doc="Width in pixels (times dpr), or auto."
    )
    height: int | str | None = option(
        None, "h", value=Size(MAX_SIDE), doc="Height in pixels (times dpr)."
    )
    dpr: float = option(
        1.0, value=Decimal(0.0, 3.0, low_open=True), doc="Device pixel ratio: scales width, height."
    )
    fit: str = option(
        "scale-down", value=Choice(FITS), doc="How the image fits the width × height box."
    )
    gravity: Gravity = option(
        CENTER, "g", value=GravityValue(), doc="Which part is kept when cropping."
    )
    zoom: float = option(
        0.0,
        "face-zoom",
        value=Decimal(0.0, 1.0),
        doc="With gravity=face: 0 keeps the most around the faces, 1 crops to them.",
    )
    quality: int | None = option(
        None, "q", value=_QUALITY, doc="Quality for JPEG, WebP, AVIF (85); on PNG: a palette."
    )
    slow_connection_quality: int | None = option(
        None,
        "scq",
        value=_QUALITY,
        doc="Quality used instead when the client says its connection is slow.",
    )
    format: str | None = option(
        None,
        "f",
        value=Choice(FORMATS, {"jpg": "jpeg"}),
        doc="Output format; auto picks AVIF, WebP or JPEG/PNG from the Accept header.",
    )
    compression: str | None = option(
        None, value=Choice(("fast",)), doc="fast: the fastest encoding, at a larger size."
    )
    anim: bool = option(
        True, value=Boolean(), doc="false keeps only the first frame of an animation."
    )
    metadata: str = option(
        "copyright",
        value=Choice(("keep", "copyright", "none")),
        doc="Which metadata a JPEG keeps; other formats keep none.",
    )
    background: Color | None = option(
        None, value=ColorValue(), doc="Colour behind transparent areas and padding (white)."
    )
    rotate: int = option(0, value=Angle(), doc="Clockwise rotation before resizing.")
    flip: str | None = option(
        None,
        value=Choice(("h", "v", "hv"), {"vh": "hv"}),
        doc="Mirror horizontally (h), vertically (v) or both, before rotating.",
    )
    blur: float = option(0.0, value=Decimal(0.0, 250.0), doc="Blur radius in pixels.")
    sharpen: float = option(0.0, value=Decimal(0.0, 10.0), doc="Sharpening strength.")
    brightness: float = option(1.0, value=_FACTOR, doc="Brightness factor; 1 is unchanged.")
    contrast: float = option(1.0, value=_FACTOR, doc="Contrast factor; 1 is unchanged.")
    gamma: float = option(1.0, value=_FACTOR, doc="Gamma; below 1 lightens; 0 or 1 unchanged.")
    saturation: float = option(1.0, value=_FACTOR, doc="Saturation factor; 0 is grey.")
    trim: Trim | None = option(None, value=TrimValue(), doc="Cut pixels away before anything else.")
    onerror: str | None = option(
        None, value=Choice(("redirect",)), doc="redirect: send the original when resizing fails."
    )


def _specs() -> tuple[OptionSpec, ...]:
    specs = []
    for spec_field in fields(Options):
        meta = spec_field.metadata["option"]
        specs.append(
            OptionSpec(
                attribute=spec_field.name,
                name=meta["name"] or spec_field.name.replace("_", "-"),
                aliases=meta["aliases"],
                value=meta["value"],
                doc=meta["doc"],
            )
        )
    return tuple(specs)


SPECS: tuple[OptionSpec, ...] = _specs()
DEFAULTS = Options()
