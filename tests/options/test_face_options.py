"""face-blur and face-pixelate as options: parsed, checked, canonical, and asking for faces."""

from __future__ import annotations

import pytest

from focal.errors import OptionError
from focal.options import canonical, options_from_mapping, parse_options


def test_parsed_and_canonical() -> None:
    options = parse_options("width=300,face-blur=20")
    assert options.face_blur == 20.0 and options.needs_faces
    assert canonical(options) == "face-blur=20,width=300"
    pixelated = options_from_mapping({"face_pixelate": 12.5})
    assert pixelated.face_pixelate == 12.5 and pixelated.needs_faces
    assert canonical(pixelated) == "face-pixelate=12.5"


def test_only_face_gravity_or_hiding_asks_for_faces() -> None:
    assert parse_options("gravity=face").needs_faces
    assert not parse_options("width=300,gravity=auto,blur=20").needs_faces
    assert not parse_options("face-blur=0").needs_faces


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("face-blur=20,face-pixelate=10", "give face-blur or face-pixelate, not both"),
        ("face-blur=101", "face-blur"),
        ("face-pixelate=-1", "face-pixelate"),
        ("face-blur=lots", "face-blur"),
    ],
)
def test_bad_values_say_what_to_change(text: str, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        parse_options(text)
    assert message in raised.value.message
    assert raised.value.status == 400
