"""A transformation past its deadline is stopped inside libvips, and the thread is free again."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import pyvips

from conftest import read_photo
from focal.errors import ErrorKind, FocalError
from focal.options import parse_options
from focal.pipeline import Limits, OutputSpec, run, url_operations, url_output
from focal.pipeline.compose import run_composed
from focal.pipeline.deadline import Deadline
from focal.pipeline.operations import operation_from_dict
from imaging import animated

# Budgets wide open: only the deadline can stop these.
OPEN = dict(max_output_pixels=10**9, max_gif_output_pixels=10**9)
TINY_DEADLINE = Limits(transform_timeout=0.05, **OPEN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def slow_gif() -> bytes:
    """An animation of 60 photo frames (WebP, quick to make): writing it as GIF costs many
    seconds of palette searches."""
    photo = pyvips.Image.new_from_buffer(read_photo("astronaut"), "")
    frames = [photo.crop(index * 3, index * 2, 300, 300) for index in range(60)]
    return animated(frames, "webpsave_buffer")


def test_a_slow_gif_encode_is_stopped_with_a_clear_error(slow_gif: bytes) -> None:
    options = parse_options("w=600,f=gif")
    with pytest.raises(FocalError) as stopped:
        run(slow_gif, url_operations(options), url_output(options), limits=TINY_DEADLINE)
    assert stopped.value.kind is ErrorKind.PROCESSING_FAILED
    assert stopped.value.status == 422
    assert "took longer than 0.05 s" in stopped.value.message


def test_a_short_deadline_is_kept_while_a_longer_one_is_watched(slow_gif: bytes) -> None:
    """The watchdog wakes for a deadline earlier than those it holds, not only for the first."""
    options = parse_options("w=600,f=gif")
    longer = Deadline(600).watching(pyvips.Image.black(8, 8))
    with longer, pytest.raises(FocalError, match="took longer than 0.05 s"):
        run(slow_gif, url_operations(options), url_output(options), limits=TINY_DEADLINE)


def test_the_thread_is_freed_and_serves_afterwards(slow_gif: bytes) -> None:
    """One image thread: the stopped work returns it, and the next transformation runs on it."""
    options = parse_options("w=600,f=gif")
    with ThreadPoolExecutor(1) as pool:
        stopped = pool.submit(
            run, slow_gif, url_operations(options), url_output(options), limits=TINY_DEADLINE
        )
        with pytest.raises(FocalError, match="took longer"):
            stopped.result()
        small = parse_options("w=80,f=webp")
        served = pool.submit(run, read_photo("chelsea"), url_operations(small), OutputSpec())
        assert served.result().width == 80
    assert not [t for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor")]


def test_the_deadline_covers_the_overlays_and_the_base(slow_gif: bytes) -> None:
    """One deadline for a chain: drawn inputs' work counts towards it."""
    draw = operation_from_dict({"op": "draw", "input": 1, "operations": []})
    with pytest.raises(FocalError, match="took longer"):
        run_composed(
            [slow_gif, read_photo("chelsea")],
            [draw],
            OutputSpec(format="gif"),
            limits=TINY_DEADLINE,
        )


def test_no_deadline_when_the_timeout_is_zero() -> None:
    photo = pyvips.Image.new_from_buffer(read_photo("chelsea"), "")
    gif = animated([photo.crop(index, index, 80, 80) for index in range(3)])
    limits = Limits(transform_timeout=0, **OPEN)  # type: ignore[arg-type]
    output = run(gif, [], OutputSpec(format="gif"), limits=limits)
    assert (output.width, output.height, output.pages) == (80, 80, 3)
