"""What one result may cost: pixels of all its frames, refused from its planned size."""

from __future__ import annotations

import pytest

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.options import parse_options
from focal.pipeline import Limits, run, url_operations, url_output
from imaging import animated, coloured_frames

LIMITS = Limits(max_output_pixels=1_000_000, max_gif_output_pixels=200_000)


def transform(data: bytes, options: str, limits: Limits = LIMITS) -> tuple[int, int, int]:
    parsed = parse_options(options)
    output = run(data, url_operations(parsed), url_output(parsed), limits=limits)
    return output.width, output.height, output.pages


def refused(data: bytes, options: str, limits: Limits = LIMITS) -> FocalError:
    with pytest.raises(FocalError) as error:
        transform(data, options, limits)
    assert error.value.kind is ErrorKind.IMAGE_TOO_LARGE
    assert error.value.status == 403
    return error.value


def test_an_enlarged_result_past_the_budget_is_refused() -> None:
    small = read_photo("chelsea")  # 451×300
    error = refused(small, "w=2000,h=2000,fit=squeeze,f=png")
    assert "4,000,000 pixels" in error.message and "1,000,000" in error.message
    assert transform(small, "w=1000,h=1000,fit=squeeze,f=png") == (1000, 1000, 1)


def test_the_issues_squeezed_gif_is_refused_by_the_default_budget() -> None:
    error = refused(read_photo("chelsea"), "w=4000,h=4000,fit=squeeze,f=gif", Limits())
    assert "GIF" in error.message and "another format" in error.message


def test_gif_results_have_a_lower_budget() -> None:
    small = read_photo("chelsea")
    assert transform(small, "w=600,h=600,fit=squeeze,f=webp") == (600, 600, 1)
    error = refused(small, "w=600,h=600,fit=squeeze,f=gif")
    assert "360,000 pixels" in error.message and "200,000" in error.message
    assert transform(small, "w=400,h=400,fit=squeeze,f=gif") == (400, 400, 1)


def test_every_frame_of_an_animation_counts() -> None:
    gif = animated(coloured_frames(100, 100, 30))  # 300,000 px over 30 frames
    error = refused(gif, "f=gif")
    assert "× 30 frames" in error.message and "anim=false" in error.message
    assert transform(gif, "f=gif,anim=false") == (100, 100, 1)
    assert transform(gif, "f=gif,w=50") == (50, 50, 30)
    assert transform(gif, "f=webp") == (100, 100, 30)  # within the general budget
