"""The declarations: fit and gravity mode are enums whose values are the public spellings."""

from __future__ import annotations

import json

import pytest

from focal.errors import OptionError
from focal.options import (
    FITS,
    SPECS,
    Fit,
    Gravity,
    GravityMode,
    canonical,
    options_from_mapping,
    parse_options,
)


@pytest.mark.parametrize("fit", list(Fit))
def test_a_fit_parses_to_its_member_and_prints_as_its_spelling(fit: Fit) -> None:
    options = parse_options(f"width=10,fit={fit.value.upper()}")
    assert options.fit is fit
    assert canonical(options) == ("width=10" if fit is Fit.SCALE_DOWN else f"fit={fit},width=10")
    assert json.dumps({"fit": options.fit}) == json.dumps({"fit": fit.value})


def test_fits_are_the_fit_spellings_in_their_order() -> None:
    assert [str(fit) for fit in FITS] == [
        "scale-down",
        "contain",
        "cover",
        "crop",
        "aspect-crop",
        "pad",
        "squeeze",
        "scale-up",
    ]


@pytest.mark.parametrize(
    ("text", "mode", "faces"),
    [("face", GravityMode.FACE, True), ("auto", GravityMode.AUTO, False)],
)
def test_a_detector_gravity_is_its_mode(text: str, mode: GravityMode, faces: bool) -> None:
    gravity = parse_options(f"gravity={text}").gravity
    assert gravity.mode is mode and gravity.uses_faces is faces
    assert canonical(parse_options(f"g={text}")) == f"gravity={text}"


def test_a_point_gravity_is_never_spelled_point() -> None:
    assert parse_options("gravity=0.2x0.8").gravity == Gravity(GravityMode.POINT, 0.2, 0.8)
    assert canonical(parse_options("gravity=left")) == "gravity=left"
    with pytest.raises(OptionError, match="gravity='point'"):
        parse_options("gravity=point")


def test_a_mode_given_as_its_spelling_is_the_member() -> None:
    assert Gravity(mode="face").mode is GravityMode.FACE  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Gravity(mode="faces")  # type: ignore[arg-type]


def test_only_width_takes_auto() -> None:
    assert parse_options("width=auto").width == "auto"
    with pytest.raises(OptionError, match="height='auto' is not valid"):
        parse_options("height=auto")
    with pytest.raises(OptionError, match="h='auto'"):
        options_from_mapping({"h": "auto"})


def test_every_declaration_documents_itself() -> None:
    for spec in SPECS:
        assert spec.doc, spec.name
        assert spec.value.describe(), spec.name
        # the plain description (error messages) has no markup
        assert "`" not in spec.value.describe(), spec.name
