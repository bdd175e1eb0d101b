"""face-blur and face-pixelate on pixels: faces lose their detail, the background keeps it."""

from __future__ import annotations

import pytest
import pyvips

from face_marks import GROUP, corners_kept, labelled, marked
from focal.errors import FocalError
from focal.options import parse_options
from focal.pipeline import Box, OutputSpec, face_privacy, run, url_operations
from focal.pipeline.face_privacy import hidden_area
from focal.pipeline.operations import FaceBlurOp, FacePixelateOp, operation_from_dict

LAPLACIAN = pyvips.Image.new_from_array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
# Background with detail and no face: the bottom-left corner of the group photo.
BACKGROUND = Box(0, 500, 180, 160)


def _fine_detail(image: pyvips.Image, box: Box) -> pyvips.Image:
    """The high frequencies of the lightness inside `box`: its Laplacian."""
    grey = image.colourspace("b-w")[0].cast("float")
    area = grey.crop(int(box.left), int(box.top), int(box.width), int(box.height))
    return area.conv(LAPLACIAN, precision="float")


def _kept_detail(before: pyvips.Image, after: pyvips.Image, box: Box) -> float:
    """The share of `before`'s high-frequency energy in `box` that is still there in `after`:
    1 for the same detail, about 0 when it is gone. Block edges of a pixelation are new
    detail, not the face's, and do not count."""
    old, new = _fine_detail(before, box), _fine_detail(after, box)
    return float((old * new).avg()) / float((old * old).avg())


def _output(data: bytes, options: str, faces: tuple[Box, ...] | None) -> pyvips.Image:
    out = run(data, url_operations(parse_options(options)), OutputSpec("png"), faces=faces)
    return pyvips.Image.new_from_buffer(out.data, "")


@pytest.fixture(scope="module")
def group() -> tuple[bytes, tuple[Box, ...]]:
    return labelled(GROUP)


@pytest.mark.parametrize("hide", ["face-blur=20", "face-pixelate=10"])
def test_faces_lose_detail_and_the_background_keeps_it(
    group: tuple[bytes, tuple[Box, ...]], hide: str
) -> None:
    data, faces = group
    before = _output(data, "format=png", faces)
    after = _output(data, hide, faces)
    for face in faces:
        assert _kept_detail(before, after, face) < 0.2, face
    assert _kept_detail(before, after, BACKGROUND) == pytest.approx(1.0)


def test_strength_follows_each_face_size_in_the_result(
    group: tuple[bytes, tuple[Box, ...]],
) -> None:
    # Half the size, the faces are half as large: hidden just as well, at half the radius.
    data, faces = group
    half = tuple(face.scaled(0.5, 0.5) for face in faces)
    before = _output(data, "width=500", faces)
    after = _output(data, "width=500,face-blur=20", faces)
    for face in half:
        assert _kept_detail(before, after, face) < 0.2, face
    assert _kept_detail(before, after, BACKGROUND.scaled(0.5, 0.5)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "crop",
    [
        "w=900,h=200,fit=cover,gravity=face",
        "w=300,h=300,fit=cover,gravity=auto",
        "w=400,h=400,fit=pad,background=black",
        "w=250,h=500,fit=crop,gravity=0.2x0.5",
        "rotate=90,flip=h,w=300",
        "trim=100;0;0;150,w=600,h=300,fit=squeeze",
    ],
)
def test_every_face_left_in_the_result_is_hidden_with_any_fit_and_gravity(
    group: tuple[bytes, tuple[Box, ...]], crop: str
) -> None:
    # The marks at each face's corners survive a plain crop; hidden, not one survives.
    data, faces = group
    painted = marked(data, faces)
    plain = run(painted, url_operations(parse_options(crop)), OutputSpec("png"), faces=faces)
    assert any(count > 0 for count in corners_kept(plain.data, faces))
    for hide in ("face-blur=20", "face-pixelate=20"):
        options = parse_options(f"{crop},{hide}")
        hidden = run(painted, url_operations(options), OutputSpec("png"), faces=faces)
        assert (hidden.width, hidden.height) == (plain.width, plain.height)
        assert corners_kept(hidden.data, faces) == [0] * len(faces), hide


def _animation(data: bytes, frames: int) -> bytes:
    """An animated WebP of the photo at 500 px wide, each frame a little brighter."""
    still = pyvips.Image.thumbnail_buffer(data, 500).colourspace("srgb")
    pages = [(still * (1 + index / 20)).cast("uchar") for index in range(frames)]
    joined = pyvips.Image.arrayjoin(pages, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", still.height)
    return bytes(joined.webpsave_buffer(lossless=True))


def test_every_frame_of_an_animation_is_hidden(group: tuple[bytes, tuple[Box, ...]]) -> None:
    data, faces = group
    animation = _animation(data, 3)
    half = tuple(face.scaled(0.5, 0.5) for face in faces)
    plain = run(animation, [], OutputSpec("webp"), faces=half)
    out = run(
        animation,
        url_operations(parse_options("face-pixelate=15")),
        OutputSpec("webp"),
        faces=half,
    )
    assert out.pages == 3
    before = pyvips.Image.new_from_buffer(plain.data, "", n=-1)
    after = pyvips.Image.new_from_buffer(out.data, "", n=-1)
    height = after.get("page-height")
    for page in range(3):
        for face in half:
            moved = face.moved(0, page * height)
            assert _kept_detail(before, after, moved) < 0.2, (page, face)
        background = BACKGROUND.scaled(0.5, 0.5).moved(0, page * height)
        assert _kept_detail(before, after, background) > 0.9  # WebP is lossy: nearly all


def test_hidden_area_grows_the_box_and_stays_in_the_frame() -> None:
    assert hidden_area(Box(10, 10, 100, 100), 500, 500) == (0, 0, 130, 130)
    assert hidden_area(Box(100, 100, 100, 100), 500, 500) == (80, 80, 140, 140)
    assert hidden_area(Box(450, 0, 100, 40), 500, 500) == (430, 0, 70, 48)
    assert hidden_area(Box(600, 600, 10, 10), 500, 500) is None


def test_no_faces_detected_means_nothing_to_hide() -> None:
    data, _ = labelled("scikit-image__chelsea.png")
    plain = run(data, [], OutputSpec("png"), faces=())
    hidden = run(data, url_operations(parse_options("face-blur=30")), OutputSpec("png"), faces=())
    assert hidden.data == plain.data


def test_faces_that_could_not_be_looked_for_are_never_shown_unhidden(
    group: tuple[bytes, tuple[Box, ...]],
) -> None:
    data, _ = group
    with pytest.raises(FocalError) as raised:
        run(data, url_operations(parse_options("face-blur=20")), OutputSpec("png"), faces=None)
    assert raised.value.status == 503
    assert "faces can't be blurred" in raised.value.message


def test_the_operations_in_a_chain_take_their_json_form() -> None:
    assert operation_from_dict({"op": "face_blur", "percent": 25}) == FaceBlurOp(25.0)
    assert operation_from_dict({"op": "face_pixelate", "percent": 10}) == FacePixelateOp(10.0)
    assert FaceBlurOp(25.0).to_dict() == {"op": "face_blur", "percent": 25.0}
    assert FaceBlurOp(25.0).needs_faces and FacePixelateOp(5.0).needs_faces


def test_a_face_outside_the_frame_and_a_transparent_image() -> None:
    frame = (pyvips.Image.black(64, 64, bands=3) + [200, 30, 30]).cast("uchar")
    frame = frame.bandjoin_const([128]).copy(interpretation="srgb")
    outside = face_privacy.blur_faces(frame, [Box(100, 100, 10, 10)], 20)
    assert outside.avg() == frame.avg()
    blurred = face_privacy.pixelate_faces(frame, [Box(8, 8, 40, 40)], 10)
    assert (blurred.bands, blurred.format) == (4, "uchar")
    assert blurred.getpoint(20, 20) == pytest.approx([200, 30, 30, 128], abs=1)
