"""The transformation options: one declaration per option, from which all else follows.

Each field of `Options` carries its public name, aliases, value type and documentation;
parsing, validation, the canonical form and the option reference are derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from focal.options.geometry_values import CENTER, Angle, Gravity, GravityValue, Trim, TrimValue
from focal.options.values import (
    Auto,
    Boolean,
    Choice,
    Color,
    ColorValue,
    Decimal,
    EnumChoice,
    Integer,
    Size,
    ValueType,
)


class Fit(StrEnum):
    """How an image fits the width × height box; the values are the URL spellings.

    What each one does to sizes is its planner (`focal.pipeline.geometry.PLANNERS`); what it
    means for a user is `FIT_DOCS`.
    """

    SCALE_DOWN = "scale-down"
    CONTAIN = "contain"
    COVER = "cover"
    CROP = "crop"
    ASPECT_CROP = "aspect-crop"
    PAD = "pad"
    SQUEEZE = "squeeze"
    SCALE_UP = "scale-up"


FIT_DOCS: dict[Fit, str] = {
    Fit.SCALE_DOWN: "fits inside and never enlarges",
    Fit.CONTAIN: "fits inside, enlarging if needed",
    Fit.COVER: "fills the box exactly and cuts the overflow by gravity",
    Fit.CROP: "is `cover` for large images and `scale-down` for small ones",
    Fit.ASPECT_CROP: "cuts to the box's aspect ratio and never enlarges",
    Fit.PAD: "is `contain` padded to the exact box with `background`",
    Fit.SQUEEZE: "stretches to the box",
    Fit.SCALE_UP: "only ever enlarges",
}

MAX_SIDE = 12_000
FITS: tuple[Fit, ...] = tuple(Fit)
FORMATS = ("auto", "avif", "webp", "jpeg", "baseline-jpeg", "png", "gif", "json")
QUALITY_WORDS = {"high": 90, "medium-high": 80, "medium-low": 65, "low": 50}
_QUALITY = Integer(1, 100, QUALITY_WORDS)
_FACTOR = Decimal(0.0, 10.0)


@dataclass(frozen=True)
class OptionSpec:
    """The declaration of one option.

    `doc` says what the option does, `default_doc` what happens without it (when the default
    value alone does not say it); with `value.describe()` they make the option reference.
    """

    attribute: str
    name: str
    aliases: tuple[str, ...]
    value: ValueType[Any]
    doc: str
    default: Any
    default_doc: str = ""


def option(
    default: Any,
    *aliases: str,
    value: ValueType[Any],
    doc: str,
    default_doc: str = "",
    name: str = "",
) -> Any:
    """Declare an option as a dataclass field; its name defaults to the field's, with dashes."""
    meta = {"name": name, "aliases": aliases, "value": value, "doc": doc}
    return field(default=default, metadata={"option": {**meta, "default_doc": default_doc}})


@dataclass(frozen=True)
class Options:
    """One validated, normalized, immutable set of transformation options."""

    width: int | Auto | None = option(
        None,
        "w",
        value=Size(MAX_SIDE, auto=True),
        doc="Width of the result, times `dpr`. `auto` takes it from the client hints: "
        "`Sec-CH-Width`, else 768 on mobile, 1200 on desktop.",
        default_doc="the source's",
    )
    height: int | None = option(
        None,
        "h",
        value=Size(MAX_SIDE),
        doc="Height of the result, times `dpr`.",
        default_doc="the source's",
    )
    dpr: float = option(
        1.0,
        value=Decimal(0.0, 3.0, low_open=True),
        doc="Device pixel ratio: multiplies width and height.",
    )
    fit: Fit = option(
        Fit.SCALE_DOWN,
        value=EnumChoice(Fit),
        doc="How the image fits the width × height box (see the fit modes below).",
    )
    gravity: Gravity = option(
        CENTER,
        "g",
        value=GravityValue(),
        doc="Which part is kept when cropping: `auto` the salient part, `face` the faces, "
        "a side, or a point.",
    )
    zoom: float = option(
        0.0,
        "face-zoom",
        value=Decimal(0.0, 1.0),
        doc="With `gravity=face`: 0 keeps the most around the faces, 1 crops to them.",
    )
    quality: int | None = option(
        None,
        "q",
        value=_QUALITY,
        doc="Quality for JPEG, WebP, AVIF; on PNG, a palette.",
        default_doc="85",
    )
    slow_connection_quality: int | None = option(
        None,
        "scq",
        value=_QUALITY,
        doc="Quality used instead when the client says its connection is slow: "
        "`Save-Data: on`, `RTT` > 150, `ECT` 2g/3g or `Downlink` < 5.",
    )
    format: str | None = option(
        None,
        "f",
        value=Choice(FORMATS, {"jpg": "jpeg"}),
        doc="Output format; `auto` picks AVIF, WebP or JPEG/PNG from the `Accept` header; "
        "`json` describes the result's size instead.",
        default_doc="the source's",
    )
    compression: str | None = option(
        None, value=Choice(("fast",)), doc="`fast`: the fastest encoding, at a larger size."
    )
    anim: bool = option(
        True, value=Boolean(), doc="`false` keeps only the first frame of an animation."
    )
    metadata: str = option(
        "copyright",
        value=Choice(("keep", "copyright", "none")),
        doc="Which metadata a JPEG keeps; other formats keep none.",
    )
    background: Color | None = option(
        None,
        value=ColorValue(),
        doc="Colour behind transparent areas and padding.",
        default_doc="white",
    )
    rotate: int = option(0, value=Angle(), doc="Clockwise rotation, before resizing.")
    flip: str | None = option(
        None,
        value=Choice(("h", "v", "hv"), {"vh": "hv"}),
        doc="Mirror horizontally (`h`), vertically (`v`) or both, before rotating.",
    )
    blur: float = option(0.0, value=Decimal(0.0, 250.0), doc="Blur radius in pixels.")
    sharpen: float = option(0.0, value=Decimal(0.0, 10.0), doc="Sharpening strength.")
    face_blur: float = option(
        0.0,
        value=Decimal(0.0, 100.0),
        doc="Focal's own: blurs every face found, with a radius of this percentage of the "
        "face's size (so every face is hidden alike); 20 hides a face. With any `fit` and "
        "`gravity`, on every frame; refused (503) while detection is unavailable.",
    )
    face_pixelate: float = option(
        0.0,
        value=Decimal(0.0, 100.0),
        doc="Focal's own: pixelates every face found, in square blocks of this percentage of "
        "the face's size; 10 makes about ten blocks across a face. Not with `face-blur`.",
    )
    brightness: float = option(1.0, value=_FACTOR, doc="Brightness factor; 1 is unchanged.")
    contrast: float = option(1.0, value=_FACTOR, doc="Contrast factor; 1 is unchanged.")
    gamma: float = option(1.0, value=_FACTOR, doc="Gamma; below 1 lightens; 0 or 1 is unchanged.")
    saturation: float = option(
        1.0, value=_FACTOR, doc="Saturation factor; 1 is unchanged, 0 is grey."
    )
    trim: Trim | None = option(
        None, value=TrimValue(), doc="Cut pixels away, before anything else."
    )
    onerror: str | None = option(
        None,
        value=Choice(("redirect",)),
        doc="`redirect`: on failure, redirect to the original.",
    )

    @property
    def needs_faces(self) -> bool:
        """Whether the faces of the original must be found: to crop by them, or hide them."""
        return self.gravity.uses_faces or self.face_blur > 0 or self.face_pixelate > 0


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
                default=spec_field.default,
                default_doc=meta["default_doc"],
            )
        )
    return tuple(specs)


SPECS: tuple[OptionSpec, ...] = _specs()
DEFAULTS = Options()
