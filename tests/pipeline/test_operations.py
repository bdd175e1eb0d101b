"""The operations on real pixels: colour and detail, rotate and flip, trim, background.

Each runs through the URL form, so a step is checked where users meet it.
"""

from __future__ import annotations

import pytest
import pyvips

from focal.errors import OptionError
from focal.options import Gravity, GravityMode
from focal.pipeline.frames import Canvas
from focal.pipeline.operations import OPERATIONS, ResizeOp, RotateOp
from imaging import (
    band_means,
    detail,
    gradient,
    marked,
    mean_abs_diff,
    png,
    red_corner,
    region_colour,
    rgb,
)
from url_form import TOLERANCE, apply, half_transparent, render, sizes_of

# --- colour and detail ----------------------------------------------------------------------


def test_blur_lowers_high_frequency_energy(photo) -> None:
    data = photo("chelsea")
    original = render(data, "format=png")
    blurred = render(data, "blur=5,format=png")
    assert (blurred.width, blurred.height) == (original.width, original.height)
    assert detail(blurred) < 0.5 * detail(original)
    # a stronger blur lowers it more
    assert detail(render(data, "blur=20,format=png")) < detail(blurred)


def test_sharpen_raises_high_frequency_energy(photo) -> None:
    for name in ("chelsea", "camera"):
        data = photo(name)
        original = render(data, "format=png")
        sharpened = render(data, "sharpen=3,format=png")
        assert detail(sharpened) > 1.2 * detail(original), name
        assert detail(render(data, "sharpen=10,format=png")) > detail(sharpened), name


def test_saturation_zero_gives_grey(photo) -> None:
    image = rgb(render(photo("coffee"), "saturation=0,format=png"))
    red, green, blue = image[0].cast("int"), image[1].cast("int"), image[2].cast("int")
    assert (red - green).abs().max() <= 2
    assert (green - blue).abs().max() <= 2
    # while the original is colourful
    original = rgb(render(photo("coffee"), "format=png"))
    assert (original[0].cast("int") - original[2].cast("int")).abs().avg() > 20


def test_saturation_above_one_adds_colour(photo) -> None:
    def chroma(image: pyvips.Image) -> float:
        return float(rgb(image).colourspace("lch")[1].avg())

    data = photo("coffee")
    assert chroma(render(data, "saturation=2,format=png")) > 1.3 * chroma(
        render(data, "format=png")
    )
    assert chroma(render(data, "saturation=0.5,format=png")) < chroma(render(data, "format=png"))


def test_brightness_raises_and_lowers_the_mean(photo) -> None:
    data = photo("chelsea")
    mean = rgb(render(data, "format=png")).avg()
    assert rgb(render(data, "brightness=1.5,format=png")).avg() > mean + 20
    assert rgb(render(data, "brightness=0.5,format=png")).avg() < mean - 20


def test_contrast_raises_and_lowers_the_spread(photo) -> None:
    data = photo("chelsea")
    spread = rgb(render(data, "format=png")).deviate()
    assert rgb(render(data, "contrast=1.5,format=png")).deviate() > spread * 1.3
    assert rgb(render(data, "contrast=0.5,format=png")).deviate() < spread * 0.7


def test_gamma_below_one_lightens_above_one_darkens(photo) -> None:
    data = photo("chelsea")
    mean = rgb(render(data, "format=png")).avg()
    assert rgb(render(data, "gamma=0.5,format=png")).avg() > mean + 15
    assert rgb(render(data, "gamma=2,format=png")).avg() < mean - 15


def test_unchanged_values_change_nothing(photo) -> None:
    data = photo("chelsea")
    assert (
        apply(data, "brightness=1,contrast=1,gamma=1,saturation=1,blur=0,sharpen=0,format=png").data
        == apply(data, "format=png").data
    )


# --- rotate and flip ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size", "corner"),
    [
        ("rotate=90", (80, 120), "top-right"),
        ("rotate=180", (120, 80), "bottom-right"),
        ("rotate=270", (80, 120), "bottom-left"),
        ("flip=h", (120, 80), "top-right"),
        ("flip=v", (120, 80), "bottom-left"),
        ("flip=hv", (120, 80), "bottom-right"),
        # flip runs before rotate: mirrored to the top-right, then turned to the bottom-right
        ("flip=h,rotate=90", (80, 120), "bottom-right"),
        ("rotate=90,flip=h", (80, 120), "bottom-right"),
        ("flip=v,rotate=90", (80, 120), "top-left"),
    ],
)
def test_rotate_and_flip_move_the_marked_corner(
    text: str, size: tuple[int, int], corner: str
) -> None:
    image = render(png(marked(120, 80)), text + ",format=png")
    assert (image.width, image.height) == size
    assert red_corner(image) == corner


def test_rotate_happens_before_resize_so_sizes_refer_to_rotated_axes() -> None:
    data = png(marked(200, 100))
    image = render(data, "rotate=90,width=50,format=png")
    # rotated to 100×200 first, then 50 wide: 50×100 (resizing first would give 25×50)
    assert (image.width, image.height) == (50, 100)
    assert red_corner(image) == "top-right"
    cover = render(data, "rotate=90,w=100,h=100,fit=cover,gravity=top,format=png")
    assert (cover.width, cover.height) == (100, 100)
    assert red_corner(cover) == "top-right"  # gravity=top keeps the top of the rotated image


def test_trim_happens_before_rotate_and_resize() -> None:
    data = png(gradient(200, 100))
    # trim 10 rows off the original's top, then rotate: 90 wide, 200 high
    image = render(data, "rotate=90,trim=10;0;0;0,format=png")
    assert (image.width, image.height) == (90, 200)
    expected = gradient(200, 100).crop(0, 10, 200, 90).rot90()
    assert mean_abs_diff(image, expected) < TOLERANCE
    # trim in pixels of the original, then the resize
    small = render(data, "width=50,trim=0;100;0;0,format=png")
    assert (small.width, small.height) == (50, 50)
    assert mean_abs_diff(small, gradient(200, 100).crop(0, 0, 100, 100).resize(0.5)) < TOLERANCE


# --- trim -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("trim=10;20;30;40", (40, 10, 140, 60)),
        ("trim=0.1;0.2;0.1;0.25", (50, 10, 110, 80)),
        ("trim=0;0;50;0", (0, 0, 200, 50)),
        ("trim.top=10,trim.left=20,trim.width=100,trim.height=50", (20, 10, 100, 50)),
        ("trim.left=0.5", (100, 0, 100, 100)),
        ("trim.right=30,trim.bottom=0.5", (0, 0, 170, 50)),
        ("trim.top=20,trim.height=0.5", (0, 20, 200, 50)),
        ("trim.width=0.25", (0, 0, 50, 100)),
    ],
)
def test_trim_keeps_the_given_region(text: str, region: tuple[int, int, int, int]) -> None:
    source = gradient(200, 100)
    image = render(png(source), text + ",format=png")
    assert (image.width, image.height) == region[2:]
    assert mean_abs_diff(image, source.crop(*region)) < 1
    assert sizes_of(png(source), text) == region[2:]


def test_trim_on_a_photo_loaded_shrunk(photo) -> None:
    data = photo("nature-1")  # 4896×3264; keep the 4000×3000 at the top left, then 400 wide
    image = render(data, "trim=0;896;264;0,width=400,format=png")
    assert (image.width, image.height) == (400, 300)
    full = pyvips.Image.new_from_buffer(data, "")
    expected = full.crop(0, 0, 4000, 3000).resize(0.1)
    assert mean_abs_diff(image, expected) < 4
    assert sizes_of(data, "trim=0;896;264;0,width=400") == (400, 300)


def test_trim_pixel_lengths_are_times_dpr() -> None:
    source = gradient(200, 100)
    # dpr=2: 10;20;5;15 device-independent px cut 20;40;10;30 px; fractions stay fractions
    image = render(png(source), "trim=10;20;5;15,dpr=2,format=png")
    assert (image.width, image.height) == (200 - 40 - 30, 100 - 20 - 10)
    assert mean_abs_diff(image, source.crop(30, 20, 130, 70)) < 1
    assert sizes_of(png(source), "trim=10;20;5;15,dpr=2") == (130, 70)
    assert sizes_of(png(source), "trim=0.1;0;0;0.25,dpr=2") == (150, 90)
    # with a width too: the trim in device pixels, then the resize to width × dpr
    assert sizes_of(png(source), "trim=0;50;0;0,width=50,dpr=2") == (100, 100)


def test_trim_border_keep_is_times_dpr() -> None:
    inner = gradient(60, 40)
    data = png(framed(inner, (20, 20, 20, 20), [255, 255, 255]))
    assert sizes_of(data, "trim=border,trim.border.keep=4") == (68, 48)
    image = render(data, "trim=border,trim.border.keep=4,dpr=2,format=png")
    assert (image.width, image.height) == (76, 56)


def test_trim_that_removes_everything_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="trim"):
        apply(png(gradient(200, 100)), "trim=0;0.5;0;0.5")
    with pytest.raises(OptionError, match="trim"):
        apply(png(gradient(200, 100)), "trim=60;0;60;0")


def framed(
    inner: pyvips.Image, sides: tuple[int, int, int, int], colour: list[int]
) -> pyvips.Image:
    """`inner` on a border of `colour`, `sides` = top, right, bottom, left in pixels."""
    top, right, bottom, left = sides
    width, height = inner.width + left + right, inner.height + top + bottom
    return inner.embed(left, top, width, height, extend="background", background=colour)


def test_trim_border_cuts_a_uniform_border_of_the_corner_colour() -> None:
    inner = gradient(100, 60)
    data = png(framed(inner, (20, 30, 10, 5), [0, 200, 0]))
    image = render(data, "trim=border,format=png")
    assert (image.width, image.height) == (100, 60)
    assert mean_abs_diff(image, inner) < 1
    assert sizes_of(data, "trim=border") == (100, 60)


def test_trim_border_with_a_given_colour() -> None:
    inner = gradient(100, 60)
    data = png(framed(inner, (20, 30, 10, 5), [0, 200, 0]))
    green = render(data, "trim=border,trim.border.color=#00c800,format=png")
    assert (green.width, green.height) == (100, 60)
    # a colour that is not the border's finds no border to cut
    other = render(data, "trim=border,trim.border.color=magenta,format=png")
    assert (other.width, other.height) == (135, 90)


def test_trim_border_keep_leaves_that_much_border_on_each_side() -> None:
    inner = gradient(100, 60)
    data = png(framed(inner, (20, 30, 10, 5), [0, 200, 0]))
    image = render(data, "trim=border,trim.border.keep=8,format=png")
    # top 8 of 20, right 8 of 30, bottom 8 of 10, left all 5
    assert (image.width, image.height) == (5 + 100 + 8, 8 + 60 + 8)
    assert mean_abs_diff(image.crop(5, 8, 100, 60), inner) < 1
    assert sizes_of(data, "trim=border,trim.border.keep=8") == (113, 76)


def test_trim_border_tolerance_cuts_a_noisy_border() -> None:
    inner = gradient(100, 60)
    border = framed(inner, (20, 30, 10, 5), [0, 200, 0])
    noise = pyvips.Image.gaussnoise(border.width, border.height, sigma=5, mean=0, seed=7)
    noisy = (border.cast("float") + noise).cast("uchar").insert(inner, 5, 20)
    data = png(noisy.copy(interpretation="srgb"))
    exact = render(data, "trim=border,format=png")
    assert (exact.width, exact.height) == (135, 90)  # noise is not the border colour
    tolerant = render(data, "trim=border,trim.border.tolerance=40,format=png")
    assert (tolerant.width, tolerant.height) == (100, 60)


# --- background and transparency ------------------------------------------------------------
def test_background_fills_transparency() -> None:
    data = half_transparent()
    image = render(data, "background=red,format=png")
    assert image.bands == 3  # an opaque background leaves nothing transparent
    assert region_colour(image, 20, 40) == pytest.approx([255, 0, 0], abs=1)
    # the opaque half is untouched
    assert (
        mean_abs_diff(image.crop(100, 0, 100, 100), gradient(200, 100).crop(100, 0, 100, 100)) < 1
    )
    as_jpeg = render(data, "background=%230000ff,format=jpeg".replace("%23", "#"))
    assert region_colour(as_jpeg, 20, 40) == pytest.approx([0, 0, 255], abs=6)


def test_transparency_is_white_in_jpeg_and_kept_in_png_without_background() -> None:
    data = half_transparent()
    assert region_colour(render(data, "format=jpeg"), 20, 40) == pytest.approx([255] * 3, abs=3)
    kept = render(data, "format=png")
    assert kept.hasalpha()
    assert kept[3].crop(0, 0, 100, 100).max() == 0


def test_translucent_background_blends_under_transparency() -> None:
    image = render(half_transparent(), "background=rgba(255,0,0,0.5),format=png")
    assert image.hasalpha()
    pixel = band_means(image.crop(20, 40, 6, 6))
    assert pixel[0] == pytest.approx(255, abs=2)
    assert pixel[3] == pytest.approx(128, abs=2)


def test_pad_with_background_on_transparent_source() -> None:
    image = render(half_transparent(), "w=200,h=200,fit=pad,background=lime,format=png")
    assert (image.width, image.height) == (200, 200)
    assert image.bands == 3
    assert region_colour(image, 90, 10) == pytest.approx([0, 255, 0], abs=1)  # padding
    assert region_colour(image, 20, 90) == pytest.approx([0, 255, 0], abs=1)  # transparency
    transparent_pad = render(
        half_transparent(), "w=200,h=200,fit=pad,background=transparent,format=png"
    )
    assert transparent_pad.hasalpha()
    assert transparent_pad[3].crop(0, 0, 200, 50).max() == 0
    assert transparent_pad[3].crop(150, 60, 40, 80).min() == 255


# --- what each operation tells the executor -------------------------------------------------


def test_only_geometry_steps_run_on_an_original_decoded_shrunk() -> None:
    shrinkable = {name for name, kind in OPERATIONS.items() if kind.runs_on_shrunk}
    assert shrinkable == {"trim", "flip", "rotate"}
    assert {name for name, kind in OPERATIONS.items() if kind.sets_load_scale} == {"resize"}


def test_a_resize_needs_faces_only_with_gravity_face_and_says_its_load_scale() -> None:
    face = ResizeOp(width=100, height=None, gravity=Gravity(GravityMode.FACE))
    assert face.needs_faces and not ResizeOp(width=100, height=None).needs_faces
    assert not RotateOp(90).needs_faces
    canvas = Canvas(pyvips.Image.black(400, 200, bands=3), pages=1, faces=None)
    assert ResizeOp(width=100, height=None).load_scale(canvas) == (0.25, 0.25)
    assert ResizeOp(width=None, height=None).load_scale(canvas) is None
    assert RotateOp(90).load_scale(canvas) is None
