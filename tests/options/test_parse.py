"""parse_options, options_from_mapping and the canonical form: every option, alias and error."""

from __future__ import annotations

import re

import pytest

from focal.errors import ErrorKind, FocalError, OptionError
from focal.options import (
    FITS,
    FORMATS,
    SPECS,
    Color,
    Gravity,
    Options,
    Trim,
    TrimBorder,
    canonical,
    options_from_mapping,
    parse_options,
)


def error_of(text: str) -> str:
    with pytest.raises(OptionError) as caught:
        parse_options(text)
    return caught.value.message


# --- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width", "height"),
    [
        ("width=400", 400, None),
        ("w=400", 400, None),
        ("height=300", None, 300),
        ("h=300", None, 300),
        ("w=400,h=300", 400, 300),
        ("width=1", 1, None),
        ("width=12000", 12000, None),
        ("width=400.0", 400, None),
        ("width=auto", "auto", None),
        ("width=AUTO", "auto", None),
    ],
)
def test_width_and_height(text: str, width: int | str | None, height: int | None) -> None:
    options = parse_options(text)
    assert (options.width, options.height) == (width, height)


@pytest.mark.parametrize("value", ["0", "-5", "12001", "10.5", "abc", "nan", "inf", "1e9"])
@pytest.mark.parametrize("name", ["width", "w", "height", "h"])
def test_bad_sizes_name_the_option_and_the_range(name: str, value: str) -> None:
    message = error_of(f"{name}={value}")
    assert name in message
    assert "1 to 12000" in message


def test_dpr_scales_nothing_by_itself_and_must_be_positive() -> None:
    assert parse_options("width=100,dpr=2").dpr == 2.0
    assert parse_options("width=100,dpr=1.5").dpr == 1.5
    # dpr without a size has no effect: normalized away, so both spell one transformation
    assert parse_options("dpr=2,blur=1") == parse_options("blur=1")
    for bad in ("0", "-1", "x", "10"):
        assert "dpr" in error_of(f"width=10,dpr={bad}")


# --- fit, gravity, zoom ---------------------------------------------------------------------


@pytest.mark.parametrize("fit", FITS)
def test_every_fit_mode(fit: str) -> None:
    assert parse_options(f"width=10,fit={fit}").fit == fit
    assert parse_options(f"width=10,fit={fit.upper()}").fit == fit


def test_all_eight_fit_modes_are_known() -> None:
    assert set(FITS) == {
        "scale-down",
        "contain",
        "cover",
        "crop",
        "aspect-crop",
        "pad",
        "squeeze",
        "scale-up",
    }
    assert Options().fit == "scale-down"


def test_unknown_fit_lists_every_allowed_value() -> None:
    message = error_of("width=10,fit=stretch")
    assert "fit" in message and "stretch" in message
    for fit in FITS:
        assert fit in message


@pytest.mark.parametrize(
    ("text", "gravity"),
    [
        ("auto", Gravity(mode="auto")),
        ("face", Gravity(mode="face")),
        ("left", Gravity(x=0.0, y=0.5)),
        ("right", Gravity(x=1.0, y=0.5)),
        ("top", Gravity(x=0.5, y=0.0)),
        ("bottom", Gravity(x=0.5, y=1.0)),
        ("center", Gravity()),
        ("centre", Gravity()),
        ("0.5x0.33", Gravity(x=0.5, y=0.33)),
        ("0x1", Gravity(x=0.0, y=1.0)),
        ("1X0", Gravity(x=1.0, y=0.0)),
        ("LEFT", Gravity(x=0.0, y=0.5)),
    ],
)
def test_gravity_values(text: str, gravity: Gravity) -> None:
    assert parse_options(f"w=10,gravity={text}").gravity == gravity
    assert parse_options(f"w=10,g={text}").gravity == gravity


@pytest.mark.parametrize("value", ["1.5x0.5", "0.5x-0.1", "0.5", "0.5x0.5x0.5", "north", "x", ""])
def test_bad_gravity_lists_the_forms(value: str) -> None:
    message = error_of(f"w=10,gravity={value}") if value else error_of("w=10,gravity=")
    assert "gravity" in message
    if value:
        for form in ("auto", "face", "left", "right", "top", "bottom", "XxY"):
            assert form in message


def test_zoom_and_its_alias_with_face_gravity() -> None:
    assert parse_options("w=10,gravity=face,zoom=0.6").zoom == 0.6
    assert parse_options("w=10,g=face,face-zoom=0.6").zoom == 0.6
    assert parse_options("w=10,g=face,zoom=1").zoom == 1.0
    assert "zoom" in error_of("w=10,g=face,zoom=1.5")
    # zoom only acts with gravity=face: elsewhere it is dropped, so the spellings are equal
    assert parse_options("w=10,g=left,zoom=0.5") == parse_options("w=10,g=left")


# --- quality and format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quality"),
    [
        ("1", 1),
        ("100", 100),
        ("85", 85),
        ("high", 90),
        ("medium-high", 80),
        ("medium-low", 65),
        ("low", 50),
        ("HIGH", 90),
    ],
)
def test_quality_numbers_and_words(text: str, quality: int) -> None:
    assert parse_options(f"quality={text}").quality == quality
    assert parse_options(f"q={text}").quality == quality
    assert parse_options(f"slow-connection-quality={text}").slow_connection_quality == quality
    assert parse_options(f"scq={text}").slow_connection_quality == quality


@pytest.mark.parametrize("value", ["0", "101", "best", "50.5"])
def test_bad_quality_names_numbers_and_words(value: str) -> None:
    message = error_of(f"q={value}")
    assert "q=" in message
    assert "1 to 100" in message
    for word in ("high", "medium-high", "medium-low", "low"):
        assert word in message


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_its_alias(fmt: str) -> None:
    assert parse_options(f"format={fmt}").format == fmt
    assert parse_options(f"f={fmt}").format == fmt


def test_format_spellings() -> None:
    assert set(FORMATS) >= {"auto", "avif", "webp", "jpeg", "baseline-jpeg", "png", "gif", "json"}
    assert parse_options("f=jpg").format == "jpeg"
    assert parse_options("f=WEBP").format == "webp"
    message = error_of("f=bmp")
    assert "bmp" in message
    for fmt in FORMATS:
        assert fmt in message


def test_compression_anim_metadata_onerror() -> None:
    assert parse_options("compression=fast").compression == "fast"
    assert "compression" in error_of("compression=slow")
    assert parse_options("anim=false").anim is False
    assert parse_options("anim=true").anim is True
    assert parse_options("anim=0").anim is False
    assert "true or false" in error_of("anim=maybe")
    for value in ("keep", "copyright", "none"):
        assert parse_options(f"metadata={value}").metadata == value
    assert Options().metadata == "copyright"
    message = error_of("metadata=all")
    assert "keep" in message and "copyright" in message and "none" in message
    assert parse_options("onerror=redirect").onerror == "redirect"
    assert "redirect" in error_of("onerror=ignore")


# --- colours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "color"),
    [
        ("red", Color(255, 0, 0)),
        ("RebeccaPurple", Color(102, 51, 153)),
        ("#00ff00", Color(0, 255, 0)),
        ("#0F0", Color(0, 255, 0)),
        ("#0000ff80", Color(0, 0, 255, 128)),
        ("#00f8", Color(0, 0, 255, 136)),
        ("rgb(10,20,30)", Color(10, 20, 30)),
        ("rgb(10, 20, 30)", Color(10, 20, 30)),
        ("rgba(10,20,30,0.5)", Color(10, 20, 30, 128)),
        ("rgba(10,20,30,0)", Color(10, 20, 30, 0)),
        ("rgb(100%,0%,50%)", Color(255, 0, 128)),
        ("transparent", Color(0, 0, 0, 0)),
    ],
)
def test_background_css_colours(text: str, color: Color) -> None:
    assert parse_options(f"background={text}").background == color


def test_rgba_commas_do_not_split_options() -> None:
    options = parse_options("background=rgba(0,0,0,0.5),width=100,fit=pad,height=50")
    assert options.background == Color(0, 0, 0, 128)
    assert (options.width, options.height, options.fit) == (100, 50, "pad")


@pytest.mark.parametrize(
    "value", ["nocolour", "#12", "#gggggg", "rgb(1,2)", "rgb(300,0,0)", "rgba(1,2,3,2)"]
)
def test_bad_colours(value: str) -> None:
    message = error_of(f"background={value}")
    assert "background" in message
    assert "CSS colour" in message


# --- rotate, flip, filters ------------------------------------------------------------------


def test_rotate_quarter_turns() -> None:
    assert parse_options("rotate=90").rotate == 90
    assert parse_options("rotate=180").rotate == 180
    assert parse_options("rotate=270").rotate == 270
    assert parse_options("rotate=-90").rotate == 270
    assert parse_options("rotate=360,blur=1") == parse_options("blur=1")
    for bad in ("45", "x", "90.5"):
        message = error_of(f"rotate={bad}")
        assert "rotate" in message and "90, 180 or 270" in message


def test_flip_directions() -> None:
    assert parse_options("flip=h").flip == "h"
    assert parse_options("flip=v").flip == "v"
    assert parse_options("flip=hv").flip == "hv"
    assert parse_options("flip=vh").flip == "hv"
    message = error_of("flip=x")
    assert "flip" in message and "h, v, hv" in message


@pytest.mark.parametrize(
    ("name", "good", "bad", "allowed"),
    [
        ("blur", ["0", "1", "250", "12.5"], ["251", "-1"], "0 to 250"),
        ("sharpen", ["0", "1", "10", "2.5"], ["11", "-1"], "0 to 10"),
        ("brightness", ["0", "0.5", "2"], ["-1", "11"], "0 to 10"),
        ("contrast", ["0", "1.5"], ["-0.1", "x"], "0 to 10"),
        ("saturation", ["0", "2"], ["-1"], "0 to 10"),
        ("gamma", ["0.5", "2"], ["-1"], "0 to 10"),
    ],
)
def test_filter_ranges(name: str, good: list[str], bad: list[str], allowed: str) -> None:
    attribute = name
    for value in good:
        parsed = getattr(parse_options(f"{name}={value}"), attribute)
        assert parsed == float(value) or (name == "gamma" and float(value) == 0)
    for value in bad:
        message = error_of(f"{name}={value}")
        assert name in message and allowed in message


def test_gamma_zero_means_unchanged() -> None:
    assert parse_options("gamma=0,blur=1") == parse_options("gamma=1,blur=1")


# --- trim -----------------------------------------------------------------------------------


def test_trim_sides_in_pixels_and_fractions() -> None:
    assert parse_options("trim=10;20;30;40").trim == Trim(top=10, right=20, bottom=30, left=40)
    assert parse_options("trim=0.1;0;0.25;0").trim == Trim(top=0.1, bottom=0.25)


def test_trim_keys() -> None:
    trim = parse_options("trim.top=5,trim.left=6,trim.width=100,trim.height=50").trim
    assert trim == Trim(top=5, left=6, width=100, height=50)
    assert parse_options("trim.right=7,trim.bottom=8").trim == Trim(right=7, bottom=8)
    # the key form and the side form say the same thing
    assert parse_options("trim.top=10") == parse_options("trim=10;0;0;0")


def test_trim_border_and_its_keys() -> None:
    assert parse_options("trim=border").trim == Trim(border=TrimBorder())
    trim = parse_options(
        "trim=border,trim.border.color=%23ff0000,trim.border.tolerance=20,trim.border.keep=3".replace(
            "%23", "#"
        )
    ).trim
    assert trim == Trim(border=TrimBorder(color=Color(255, 0, 0), tolerance=20, keep=3))
    # border sub-keys alone ask for a border trim
    assert parse_options("trim.border.tolerance=5").trim == Trim(border=TrimBorder(tolerance=5))
    assert parse_options("trim.border=true").trim == Trim(border=TrimBorder())


def test_trim_border_false_is_no_border_trim() -> None:
    assert parse_options("trim.border=false,width=10") == parse_options("width=10")
    assert parse_options("trim.border=false,trim.top=10") == parse_options("trim.top=10")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("trim=1;2;3", ["trim", "top;right;bottom;left"]),
        ("trim=a;b;c;d", ["trim", "top"]),
        ("trim=border,trim.top=4", ["trim=border", "trim.top"]),
        ("trim.width=10,trim.right=5", ["trim.width", "trim.right"]),
        ("trim.height=10,trim.bottom=5", ["trim.height", "trim.bottom"]),
        ("trim=1;0;0;0,trim.top=4", ["top", "twice"]),
        ("trim.width=0", ["trim.width"]),
        ("trim.border.tolerance=300", ["trim.border.tolerance", "0 to 255"]),
        ("trim.border.keep=-1", ["trim.border.keep"]),
        ("trim.border.color=nocolour", ["trim.border.color", "CSS colour"]),
        ("trim.top=-1", ["trim.top"]),
    ],
)
def test_bad_trims_say_what_is_wrong(text: str, words: list[str]) -> None:
    message = error_of(text)
    for word in words:
        assert word in message


def test_trim_of_nothing_is_no_trim() -> None:
    assert parse_options("trim=0;0;0;0,blur=1") == parse_options("blur=1")


# --- malformed, unknown, duplicated ---------------------------------------------------------


def test_unknown_option_lists_the_known_ones() -> None:
    message = error_of("width=100,bogus=1")
    assert "bogus" in message
    for spec in SPECS:
        assert spec.name in message


@pytest.mark.parametrize(
    "text",
    [
        "",
        ",",
        " , ",
        "width",
        "=100",
        "width=",
        "width=100,,height",
        "segment=foreground",
        "upscale=generate",
        "border=5",
    ],
)
def test_malformed_or_unsupported_strings_are_option_errors(text: str) -> None:
    with pytest.raises(OptionError) as caught:
        parse_options(text)
    assert caught.value.kind is ErrorKind.BAD_OPTIONS
    assert (caught.value.code, caught.value.status) == (9401, 400)
    assert isinstance(caught.value, FocalError)
    assert caught.value.message


def test_an_option_given_twice_is_refused_even_through_an_alias() -> None:
    message = error_of("width=100,w=200")
    assert "width" in message and "twice" in message
    assert "twice" in error_of("q=50,quality=high")
    assert "twice" in error_of("trim.top=1,trim.top=2")


def test_overlong_option_strings_are_refused() -> None:
    assert "longer" in error_of("blur=1," * 1000)


def test_names_are_case_insensitive_and_spaces_around_parts_are_ignored() -> None:
    assert parse_options(" Width = 100 , FIT=Cover ,H=50") == parse_options(
        "width=100,fit=cover,height=50"
    )


# --- the code (SDK) form --------------------------------------------------------------------


def test_mapping_form_equals_url_form() -> None:
    from_code = options_from_mapping(
        {
            "width": 400,
            "height": 300,
            "fit": "cover",
            "gravity": {"x": 0.25, "y": 0.75},
            "quality": "high",
            "background": "red",
            "slow_connection_quality": 40,
            "anim": False,
            "dpr": 2,
            "trim": {"top": 5, "left": 0.1},
        }
    )
    from_url = parse_options(
        "w=400,h=300,fit=cover,g=0.25x0.75,q=90,background=%23ff0000,scq=40,anim=false,dpr=2,"
        "trim.top=5,trim.left=0.1".replace("%23", "#")
    )
    assert from_code == from_url


def test_mapping_form_trim_border_and_sides() -> None:
    assert options_from_mapping(
        {"trim": {"border": {"color": "white", "tolerance": 10, "keep": 2}}}
    ) == parse_options(
        "trim=border,trim.border.color=white,trim.border.tolerance=10,trim.border.keep=2"
    )
    assert options_from_mapping({"trim": [1, 2, 3, 4]}) == parse_options("trim=1;2;3;4")
    assert options_from_mapping({"trim": {"border": False}, "width": 5}) == parse_options("w=5")


def test_mapping_form_validates_like_urls() -> None:
    with pytest.raises(OptionError, match="fit"):
        options_from_mapping({"fit": "stretch"})
    with pytest.raises(OptionError, match="nonsense"):
        options_from_mapping({"nonsense": 1})
    with pytest.raises(OptionError, match="width"):
        options_from_mapping({"width": 0})
    # None means "not given"
    assert options_from_mapping({"width": 10, "height": None}) == parse_options("width=10")


@pytest.mark.parametrize(
    "mapping",
    [
        {"width": True},
        {"quality": True},
        {"blur": False},
        {"rotate": True},
        {"gravity": {"x": True, "y": 0.5}},
        {"trim": {"top": True}},
        {"trim": [True, 0, 0, 0]},
        {"background": True},
    ],
)
def test_mapping_form_booleans_are_not_numbers(mapping: dict[str, object]) -> None:
    with pytest.raises(OptionError, match="true|false"):
        options_from_mapping(mapping)


def test_mapping_form_booleans_are_booleans() -> None:
    assert options_from_mapping({"anim": False}) == parse_options("anim=false")


# --- numbers are ASCII ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "width=\u0663",  # Arabic-Indic three
        "width=\u0661\u0660\u0660",
        "contrast=\uff15",  # fullwidth five
        "quality=\uff18\uff10",
        "width=1_000",
        "blur=1_0",
        "rotate=\u0669\u0660",
        "gravity=0.\uff15x0.5",
        "trim=\u0661;0;0;0",
        "trim.border.keep=\u0663",
        "background=rgb(\u0663,0,0)",
        "dpr=\U0001d7d0",  # mathematical bold two
    ],
)
def test_numbers_are_ascii_digits_only(text: str) -> None:
    assert "is not valid" in error_of(text)


def test_ascii_number_spellings_still_parse() -> None:
    assert parse_options("width=+5").width == 5
    assert parse_options("width=5.").width == 5
    assert parse_options("width=.5e1").width == 5
    assert parse_options("blur=1e1").blur == 10
    assert parse_options("background=rgb(3,0,0)").background == Color(3, 0, 0)


# --- canonical form -------------------------------------------------------------------------


def test_canonical_is_sorted_with_aliases_resolved_and_defaults_dropped() -> None:
    options = parse_options("q=high,w=400,g=left,h=300,fit=cover,f=jpg,metadata=copyright,blur=0")
    assert canonical(options) == (
        "fit=cover,format=jpeg,gravity=left,height=300,quality=90,width=400"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rotate=-90,flip=vh", "flip=hv,rotate=270"),
        ("background=rgba(255,0,0,0.5)", "background=#ff000080"),
        ("background=RED", "background=#ff0000"),
        ("gravity=0.5x0,w=1", "gravity=top,width=1"),
        ("gravity=0.25x0.75,w=1", "gravity=0.25x0.75,width=1"),
        ("g=face,face-zoom=0.50,w=1", "gravity=face,width=1,zoom=0.5"),
        ("trim.top=10", "trim=10;0;0;0"),
        ("trim=border,trim.border.color=white", "trim=border,trim.border.color=#ffffff"),
        ("trim.left=2,trim.width=0.5", "trim.left=2,trim.width=0.5"),
        ("width=auto", "width=auto"),
        ("dpr=2.0,w=10", "dpr=2,width=10"),
        ("anim=no", "anim=false"),
        ("scq=low,q=medium-low", "quality=65,slow-connection-quality=50"),
    ],
)
def test_canonical_spellings(text: str, expected: str) -> None:
    assert canonical(parse_options(text)) == expected
    assert parse_options(expected) == parse_options(text)


def test_all_defaults_have_an_empty_canonical_form() -> None:
    assert canonical(parse_options("gravity=center,fit=scale-down,metadata=copyright")) == ""
    assert canonical(Options()) == ""


@pytest.mark.parametrize(
    "spellings",
    [
        ["width=400,height=300", "h=300,w=400", "W=400 , H=300", "width=400.0,height=3e2"],
        ["quality=high", "q=90", "q=HIGH"],
        ["gravity=left,w=5", "g=0x0.5,w=5", "gravity=LEFT,w=5"],
        ["gravity=bottom,w=5", "g=0.5x1,w=5"],
        ["format=jpeg", "f=jpg", "f=JPEG"],
        [
            "background=white",
            "background=#fff",
            "background=#FFFFFF",
            "background=rgb(255,255,255)",
            "background=rgba(255,255,255,1)",
        ],
        ["flip=hv,rotate=270", "rotate=-90,flip=vh"],
        ["trim=5;6;7;8", "trim.top=5,trim.right=6,trim.bottom=7,trim.left=8"],
        ["width=10", "width=10,dpr=1,zoom=0.3,gamma=1,metadata=copyright,fit=scale-down"],
    ],
)
def test_two_spellings_give_one_canonical_form(spellings: list[str]) -> None:
    forms = {canonical(parse_options(text)) for text in spellings}
    assert len(forms) == 1, forms


def test_different_transformations_have_different_canonical_forms() -> None:
    texts = [
        "w=400",
        "w=401",
        "w=400,fit=cover",
        "h=400",
        "w=400,f=webp",
        "w=400,q=84",
        "w=400,g=right,fit=cover,h=10",
        "w=400,g=left,fit=cover,h=10",
    ]
    assert len({canonical(parse_options(text)) for text in texts}) == len(texts)


# --- presets ---------------------------------------------------------------------------------

PRESETS = {"thumb": "w=200,h=200,fit=cover,gravity=face", "hero": "width=1600"}


def test_a_preset_stands_for_its_options() -> None:
    assert canonical(parse_options("preset=thumb", PRESETS)) == canonical(
        parse_options(PRESETS["thumb"])
    )
    joined = parse_options("preset=hero,format=webp", PRESETS)
    assert canonical(joined) == "format=webp,width=1600"


@pytest.mark.parametrize(
    "text,presets,message",
    [
        ("preset=huge", PRESETS, "unknown preset 'huge'; known presets: hero, thumb"),
        ("preset=thumb", None, "unknown preset 'thumb'; known presets: none are defined"),
        ("preset=hero,preset=thumb", PRESETS, "'preset' is given twice"),
        ("preset=hero,w=10", PRESETS, "option 'w' is set by preset 'hero' too"),
        ("preset=thumb", {"thumb": "preset=hero"}, "unknown option 'preset'"),
    ],
)
def test_bad_presets_are_refused_by_name(
    text: str, presets: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(OptionError, match=re.escape(message)):
        parse_options(text, presets)
