"""The pure fit arithmetic: exact sizes for every fit mode, one side or two, up or down."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from focal.options import FITS, Fit
from focal.pipeline.geometry import (
    PLANNERS,
    Box,
    FitBox,
    FitRule,
    ResizePlan,
    center_on,
    place_by_fraction,
    plan_resize,
    target_box,
)

LARGE = (1200, 800)  # 3:2, bigger than the boxes below
SMALL = (300, 200)  # 3:2, smaller than the boxes below


def output(fit: str, width: int | None, height: int | None, source: tuple[int, int]) -> tuple:
    plan = plan_resize(fit, width, height, source)
    assert plan is not None
    return plan.output


def test_the_reference_aspect_crop_example() -> None:
    # 612×613 at 1920×1120 with fit=aspect-crop → 612×357: the box's aspect, never enlarged
    plan = plan_resize("aspect-crop", 1920, 1120, (612, 613))
    assert plan == ResizePlan(scaled=(612, 613), crop=(612, 357))
    assert plan.output == (612, 357)


@pytest.mark.parametrize(
    ("fit", "box", "source", "expected"),
    [
        # scale-down: inside the box, never enlarged
        ("scale-down", (600, 600), LARGE, (600, 400)),
        ("scale-down", (600, 100), LARGE, (150, 100)),
        ("scale-down", (600, 600), SMALL, (300, 200)),
        # contain: inside the box, enlarged if needed
        ("contain", (600, 600), LARGE, (600, 400)),
        ("contain", (600, 600), SMALL, (600, 400)),
        ("contain", (100, 600), SMALL, (100, 67)),
        # scale-up: only ever enlarges
        ("scale-up", (600, 600), SMALL, (600, 400)),
        ("scale-up", (600, 600), LARGE, (1200, 800)),
        ("scale-up", (100, 100), SMALL, (300, 200)),
        # cover: exactly the box, enlarged if needed
        ("cover", (600, 600), LARGE, (600, 600)),
        ("cover", (600, 600), SMALL, (600, 600)),
        ("cover", (50, 400), LARGE, (50, 400)),
        # crop: cover when the image is larger, scale-down when smaller, never enlarged
        ("crop", (600, 600), LARGE, (600, 600)),
        ("crop", (600, 600), SMALL, (300, 200)),
        ("crop", (100, 600), SMALL, (100, 200)),
        ("crop", (600, 100), SMALL, (300, 100)),
        # aspect-crop: the box's aspect ratio, never enlarged
        ("aspect-crop", (600, 600), LARGE, (600, 600)),
        ("aspect-crop", (600, 600), SMALL, (200, 200)),
        ("aspect-crop", (2000, 1000), LARGE, (1200, 600)),
        ("aspect-crop", (1000, 2000), LARGE, (400, 800)),
        # pad: contain, then the exact box
        ("pad", (600, 600), LARGE, (600, 600)),
        ("pad", (600, 600), SMALL, (600, 600)),
        # squeeze: exactly the box, distorted
        ("squeeze", (600, 600), LARGE, (600, 600)),
        ("squeeze", (1000, 50), SMALL, (1000, 50)),
    ],
)
def test_both_sides(
    fit: str, box: tuple[int, int], source: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert output(fit, *box, source) == expected


@pytest.mark.parametrize(
    ("fit", "scaled", "crop", "canvas"),
    [
        ("scale-down", (600, 400), None, None),
        ("contain", (600, 400), None, None),
        ("scale-up", (1200, 800), None, None),
        ("squeeze", (600, 600), None, None),
        ("cover", (900, 600), (600, 600), None),
        ("crop", (900, 600), (600, 600), None),
        ("aspect-crop", (900, 600), (600, 600), None),
        ("pad", (600, 400), None, (600, 600)),
    ],
)
def test_plans_scale_then_cut_or_pad(
    fit: str,
    scaled: tuple[int, int],
    crop: tuple[int, int] | None,
    canvas: tuple[int, int] | None,
) -> None:
    assert plan_resize(fit, 600, 600, LARGE) == ResizePlan(scaled, crop=crop, canvas=canvas)


@pytest.mark.parametrize("fit", FITS)
def test_no_size_means_no_resize(fit: str) -> None:
    assert plan_resize(fit, None, None, LARGE) is None


@pytest.mark.parametrize(
    ("fit", "width", "height", "source", "expected"),
    [
        ("scale-down", 600, None, LARGE, (600, 400)),
        ("scale-down", None, 200, LARGE, (300, 200)),
        ("scale-down", 600, None, SMALL, (300, 200)),
        ("scale-down", None, 1000, SMALL, (300, 200)),
        ("contain", 600, None, SMALL, (600, 400)),
        ("contain", None, 100, LARGE, (150, 100)),
        ("scale-up", 600, None, SMALL, (600, 400)),
        ("scale-up", 100, None, SMALL, (300, 200)),
        ("cover", 600, None, LARGE, (600, 400)),
        ("cover", None, 400, SMALL, (600, 400)),
        ("crop", 600, None, LARGE, (600, 400)),
        ("crop", 600, None, SMALL, (300, 200)),
        ("aspect-crop", 600, None, LARGE, (600, 400)),
        ("aspect-crop", 600, None, SMALL, (300, 200)),
        ("pad", 600, None, LARGE, (600, 400)),
        ("pad", None, 400, SMALL, (600, 400)),
        ("squeeze", 600, None, LARGE, (600, 400)),
        ("squeeze", None, 50, SMALL, (75, 50)),
        # aspect ratio kept with a rounding to the nearest pixel
        ("scale-down", 100, None, (612, 613), (100, 100)),
        ("scale-down", 100, None, (333, 1000), (100, 300)),
        ("scale-down", 1, None, (1000, 10), (1, 1)),
    ],
)
def test_one_side_only_follows_the_aspect_ratio(
    fit: str,
    width: int | None,
    height: int | None,
    source: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    assert output(fit, width, height, source) == expected


NEVER_ENLARGE = ("scale-down", "crop", "aspect-crop")

sizes = st.integers(min_value=1, max_value=5000)
sources = st.tuples(sizes, sizes)


@given(st.sampled_from(NEVER_ENLARGE), sizes, sizes, sources)
def test_fits_that_forbid_upscaling_never_enlarge(
    fit: str, width: int, height: int, source: tuple[int, int]
) -> None:
    plan = plan_resize(fit, width, height, source)
    assert plan is not None
    assert plan.scaled[0] <= source[0] and plan.scaled[1] <= source[1]
    out_w, out_h = plan.output
    assert out_w <= source[0] and out_h <= source[1]
    assert out_w <= width and out_h <= height


@given(st.sampled_from(("cover", "squeeze", "pad")), sizes, sizes, sources)
def test_exact_box_fits_give_the_box(
    fit: str, width: int, height: int, source: tuple[int, int]
) -> None:
    assert output(fit, width, height, source) == (width, height)


@given(sizes, sizes, sources)
def test_aspect_crop_keeps_the_box_aspect(width: int, height: int, source: tuple[int, int]) -> None:
    out_w, out_h = output("aspect-crop", width, height, source)
    # within rounding of one pixel on the shorter side
    assert abs(out_w * height - out_h * width) <= max(width, height)
    assert out_w <= source[0] and out_h <= source[1]


@given(sizes, sizes, sources)
def test_contain_fits_inside_and_touches_the_box(
    width: int, height: int, source: tuple[int, int]
) -> None:
    out_w, out_h = output("contain", width, height, source)
    assert out_w <= width and out_h <= height
    assert out_w == width or out_h == height


@given(sizes, sizes, sources)
def test_scale_up_never_shrinks_and_scale_down_never_grows(
    width: int, height: int, source: tuple[int, int]
) -> None:
    up = output("scale-up", width, height, source)
    down = output("scale-down", width, height, source)
    assert up[0] >= source[0] and up[1] >= source[1]
    assert down[0] <= source[0] and down[1] <= source[1]


def test_target_box_follows_the_source_aspect() -> None:
    assert target_box(None, None, LARGE) is None
    assert target_box(600, None, LARGE) == (600.0, 400.0)
    assert target_box(None, 200, LARGE) == (300.0, 200.0)
    assert target_box(10, 20, LARGE) == (10.0, 20.0)


@pytest.mark.parametrize(
    ("size", "cut", "fraction", "offset"),
    [
        (900, 600, 0.0, 0),
        (900, 600, 1.0, 300),
        (900, 600, 0.5, 150),
        (900, 600, 0.25, 75),
        (600, 600, 0.8, 0),
        (301, 100, 0.5, 101),  # 100.5 rounds half up
    ],
)
def test_place_by_fraction(size: int, cut: int, fraction: float, offset: int) -> None:
    assert place_by_fraction(size, cut, fraction) == offset


@pytest.mark.parametrize(
    ("size", "cut", "center", "offset"),
    [
        (1000, 200, 500, 400),
        (1000, 200, 50, 0),  # shifted, never shrunk, to stay inside
        (1000, 200, 990, 800),
        (200, 200, 10, 0),
    ],
)
def test_center_on(size: int, cut: int, center: float, offset: int) -> None:
    assert center_on(size, cut, center) == offset


def test_box_arithmetic() -> None:
    box = Box(10, 20, 30, 40)
    assert (box.right, box.bottom, box.center) == (40, 60, (25, 40))
    assert box.scaled(2, 0.5) == Box(20, 10, 60, 20)
    assert box.moved(-10, 5) == Box(0, 25, 30, 40)


# --- the planner table ----------------------------------------------------------------------


def test_every_fit_has_one_planner() -> None:
    assert set(PLANNERS) == set(Fit)


@pytest.mark.parametrize("fit", list(Fit))
@pytest.mark.parametrize("source", [LARGE, SMALL, (612, 613), (10, 1000)])
def test_a_fit_crops_exactly_when_its_planner_may_cut(fit: Fit, source: tuple[int, int]) -> None:
    """`crops` (a face region grows to the box's aspect first) says what the planner does."""
    for box in ((600, 600), (1920, 1120), (50, 400)):
        plan = plan_resize(fit, *box, source)
        assert plan is not None
        if not PLANNERS[fit].crops:
            assert plan.crop is None
    cuts = [plan_resize(fit, *box, LARGE) for box in ((600, 600), (300, 100))]
    assert any(plan is not None and plan.crop for plan in cuts) == PLANNERS[fit].crops


def test_a_new_fit_is_one_entry_in_the_table() -> None:
    """plan_resize reads only the table: a planner put there is what the fit does."""
    quarter = FitRule(lambda box: ResizePlan(box.scaled(0.25)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PLANNERS, Fit.SQUEEZE, quarter)  # type: ignore[arg-type]
        assert plan_resize(Fit.SQUEEZE, 600, None, LARGE) == ResizePlan((300, 200))


def test_fit_box_gives_the_scales_a_planner_reads() -> None:
    box = FitBox((1200, 800), (600.0, 600.0), both=True)
    assert (box.contain, box.cover) == (0.5, 0.75)
    assert box.scaled(box.cover) == (900, 600)
    assert box.exact == (600, 600)
