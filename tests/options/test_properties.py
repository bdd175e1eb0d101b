"""Properties of option parsing, checked with hypothesis over generated option strings."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from focal.errors import OptionError
from focal.options import Options, canonical, options_from_mapping
from focal.options import parse_options as parse
from option_strategies import ALIASES, GOOD_VALUES, NAMES, nasty_values, valid_option_strings

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
