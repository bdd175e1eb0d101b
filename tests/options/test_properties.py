"""Properties of option parsing, checked with hypothesis over generated option strings."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from focal.errors import OptionError
from focal.options import FITS, FORMATS, SPECS, Options, canonical, options_from_mapping
from focal.options import parse_options as parse
from focal.options.geometry_values import TRIM_KEYS

NAMES = sorted({name for spec in SPECS for name in (spec.name, *spec.aliases)} | set(TRIM_KEYS))

# Values that are valid for some option, so that soups often parse and reach deep code.
GOOD_VALUES = {
    "width": ["1", "400", "12000", "auto", "250.0"],
    "height": ["1", "300", "12000"],
    "dpr": ["0.5", "1", "2", "3"],
    "fit": list(FITS),
    "gravity": ["auto", "face", "left", "right", "top", "bottom", "center", "0.3x0.7", "0x1"],
    "zoom": ["0", "0.25", "1"],
    "quality": ["1", "50", "100", "high", "medium-high", "medium-low", "low"],
    "slow-connection-quality": ["20", "low"],
    "format": list(FORMATS) + ["jpg"],
    "compression": ["fast"],
    "anim": ["true", "false", "1", "0"],
    "metadata": ["keep", "copyright", "none"],
    "background": ["red", "#ff000080", "#abc", "rgb(1,2,3)", "rgba(1,2,3,0.5)", "transparent"],
    "rotate": ["90", "180", "270", "-90", "0"],
    "flip": ["h", "v", "hv", "vh"],
    "blur": ["0", "2.5", "250"],
    "sharpen": ["0", "1", "10"],
    "brightness": ["0", "0.5", "1.5"],
    "contrast": ["0.5", "2"],
    "gamma": ["0", "0.5", "2.2"],
    "saturation": ["0", "1.7"],
    "trim": ["border", "10;20;30;40", "0.1;0;0.2;0", "0;0;0;0"],
    "onerror": ["redirect"],
}
ALIASES = {alias: spec.name for spec in SPECS for alias in spec.aliases}

nasty_values = st.one_of(
    st.sampled_from([v for values in GOOD_VALUES.values() for v in values]),
    st.sampled_from(
        [
            "",
            "-1",
            "1e999",
            "nan",
            "inf",
            "0x0x0",
            "rgba(",
            ")",
            "(((",
            ";;;",
            "1;2;3",
            "a;b;c;d",
            "border",
            "٩٠",
            "²",
            "\x00",
            "𝟗𝟎",
            "%23fff",
            "#",
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@st.composite
def valid_option_strings(draw: st.DrawFn) -> str:
    """A comma-separated set of valid options, each given once, in any order and spelling."""
    chosen = draw(st.lists(st.sampled_from(sorted(GOOD_VALUES)), unique=True, min_size=1))
    parts = []
    for name in chosen:
        spelled = draw(st.sampled_from([name] + [a for a, n in ALIASES.items() if n == name]))
        parts.append(f"{spelled}={draw(st.sampled_from(GOOD_VALUES[name]))}")
    return ",".join(parts)


# --- canonical form round trip --------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(valid_option_strings())
def test_parsing_the_canonical_form_gives_the_same_value(text: str) -> None:
    options = parse(text)  # every generated string is valid
    form = canonical(options)
    if form == "":  # only defaults: the value is the default value
        assert options == Options()
        return
    assert parse(form) == options
    assert canonical(parse(form)) == form


@settings(max_examples=100)
@given(valid_option_strings(), st.randoms(use_true_random=False))
def test_order_of_options_does_not_change_the_value(text: str, rng: random.Random) -> None:
    options = parse(text)
    parts = text.split(",")
    # rgba(...) values hold commas: keep those strings as they are
    if any("(" in part for part in parts):
        return
    rng.shuffle(parts)
    assert parse(",".join(parts)) == options


@settings(max_examples=100)
@given(valid_option_strings())
def test_case_and_spaces_do_not_change_the_canonical_form(text: str) -> None:
    options = parse(text)
    # upper case and spaces around every name and value; rgb(...) values hold commas of
    # their own, so those are shouted whole
    parts = [text] if "(" in text else text.split(",")
    shouted = " , ".join(
        f" {key.upper()} = {value.upper()} " for key, _, value in (p.partition("=") for p in parts)
    )
    assert canonical(parse(shouted)) == canonical(options)


@settings(max_examples=100)
@given(st.sampled_from(sorted(ALIASES)), st.data())
def test_an_alias_and_its_name_give_one_canonical_form(alias: str, data: st.DataObject) -> None:
    name = ALIASES[alias]
    value = data.draw(st.sampled_from(GOOD_VALUES[name]))
    extra = "gravity=face," if name == "zoom" else ""
    assert canonical(parse(f"{extra}{alias}={value}")) == canonical(parse(f"{extra}{name}={value}"))


@given(st.sampled_from(["high", "medium-high", "medium-low", "low"]))
def test_quality_words_equal_their_numbers(word: str) -> None:
    number = parse(f"q={word}").quality
    assert canonical(parse(f"q={word}")) == canonical(parse(f"quality={number}"))
    assert canonical(parse(f"scq={word}")) == canonical(parse(f"slow-connection-quality={number}"))


@given(st.sampled_from(["left", "right", "top", "bottom", "center"]))
def test_gravity_names_equal_their_points(side: str) -> None:
    points = {
        "left": "0x0.5",
        "right": "1x0.5",
        "top": "0.5x0",
        "bottom": "0.5x1",
        "center": "0.5x0.5",
    }
    assert canonical(parse(f"w=10,g={side}")) == canonical(parse(f"w=10,gravity={points[side]}"))


@given(
    st.integers(min_value=1, max_value=12000),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_gravity_points_round_trip(width: int, x: float, y: float) -> None:
    options = parse(f"width={width},gravity={x!r}x{y!r}")
    assert (options.gravity.x, options.gravity.y) == (x, y)
    assert parse(canonical(options)) == options


# --- nothing but OptionError ----------------------------------------------------------------


@settings(max_examples=500)
@given(st.text(max_size=200))
@example("background=rgba(1,2,3,4,5)")
@example("trim.border=false,trim.top=1")
@example("width=" + "9" * 400)
@example("gravity=1e308x1e-308")
@example("rotate=" + "9" * 5000)
def test_arbitrary_strings_raise_only_option_errors(text: str) -> None:
    try:
        parse(text)
    except OptionError as error:
        assert error.message
        assert error.code == 9401


@settings(max_examples=500)
@given(st.lists(st.tuples(st.sampled_from(NAMES), nasty_values), max_size=8))
def test_soups_of_real_option_names_raise_only_option_errors(
    pairs: list[tuple[str, str]],
) -> None:
    text = ",".join(f"{name}={value}" for name, value in pairs)
    try:
        options = parse(text)
    except OptionError as error:
        assert error.message
        return
    # Whatever parsed is a value whose canonical form parses back to it.
    form = canonical(options)
    assert form == "" or parse(form) == options


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(NAMES + ["unknown_key", "trim"]),
        st.one_of(
            nasty_values,
            st.integers(),
            st.floats(),
            st.booleans(),
            st.none(),
            st.lists(st.integers(), max_size=5),
            st.dictionaries(
                st.sampled_from(["x", "y", "top", "border", "color", "keep"]),
                st.one_of(st.integers(), st.text(max_size=5), st.booleans()),
                max_size=3,
            ),
        ),
        max_size=6,
    )
)
def test_arbitrary_mappings_raise_only_option_errors(mapping: dict[str, object]) -> None:
    try:
        options_from_mapping(mapping)
    except OptionError as error:
        assert error.message
