"""RetinaFace on the labelled photos of tests/data/faces, with the real model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import pyvips
from hypothesis import given
from hypothesis import strategies as st

from conftest import read_photo
from focal.faces import (
    Face,
    FaceDetector,
    ModelChecksumError,
    inference_image,
    inference_size,
)
from focal.faces.detector import INT8_MODEL_PATH, MODEL_PATH, model_for
from imaging import heic, pillow_of

FACES = Path(__file__).parent.parent / "data" / "faces"
MANIFEST: list[dict[str, Any]] = json.loads((FACES / "manifest.json").read_text())
WITH_FACES = [entry for entry in MANIFEST if entry["faces"]]
WITHOUT_FACES = [entry for entry in MANIFEST if not entry["faces"]]
ASTRONAUT = next(e for e in MANIFEST if e["file"].endswith("astronaut.png"))


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap)


def best_iou(faces: Sequence[Face], box: Sequence[float]) -> float:
    return max((iou(face.box, box) for face in faces), default=0.0)


def photo_bytes(entry: dict[str, Any]) -> bytes:
    return (FACES / str(entry["file"])).read_bytes()


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.parametrize("entry", WITH_FACES, ids=lambda e: Path(e["file"]).stem)
def test_finds_every_labelled_face_and_nothing_else(
    detector: FaceDetector, entry: dict[str, Any]
) -> None:
    faces, width, height = detector.detect_bytes(photo_bytes(entry))
    assert (width, height) == (entry["width"], entry["height"])
    for box in entry["faces"]:
        assert best_iou(faces, box) >= 0.4, f"no detection for {box}: {faces}"
    assert len(faces) == len(entry["faces"])
    for face in faces:
        assert len(face.landmarks) == 5
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert face.score >= detector.score_threshold


@pytest.mark.parametrize("entry", WITHOUT_FACES, ids=lambda e: Path(e["file"]).stem)
def test_finds_no_face_where_there_is_none(detector: FaceDetector, entry: dict[str, Any]) -> None:
    faces, width, height = detector.detect_bytes(photo_bytes(entry))
    assert faces == []
    assert (width, height) == (entry["width"], entry["height"])


def test_animal_faces_pass_the_graphs_own_cut_but_not_the_default() -> None:
    quokka = photo_bytes(next(e for e in MANIFEST if e["file"].endswith("quokka.jpg")))
    # At the photo's own size, as the graph gives it (the quokka scores 0.57).
    permissive = FaceDetector(score_threshold=0.5, max_side=1024, checks=False)
    assert len(permissive.detect_bytes(quokka)[0]) == 1
    assert FaceDetector().detect_bytes(quokka)[0] == []


def test_min_face_size_drops_smaller_faces() -> None:
    group = next(e for e in MANIFEST if e["file"].endswith("multi_face.jpg"))
    assert FaceDetector(min_face_size=150).detect_bytes(photo_bytes(group))[0] == []


def test_inference_size_follows_the_seed_example() -> None:
    assert inference_size(125, 2000, 1024) == (64, 1024, 0.512)
    assert inference_size(2000, 125, 1024) == (1024, 64, 0.512)
    assert inference_size(2048, 2048, 1024) == (1024, 1024, 0.5)
    assert inference_size(1024, 1024, 1024) == (1024, 1024, 1.0)
    assert inference_size(640, 480, 1024) == (640, 480, 1.0)
    assert inference_size(4896, 3264, 1024)[:2] == (1024, 683)
    assert inference_size(3, 50000, 1024)[:2] == (1, 1024)  # never rounds down to nothing


@given(width=st.integers(1, 60000), height=st.integers(1, 60000), max_side=st.integers(32, 4096))
def test_inference_size_fits_and_keeps_the_aspect_ratio(
    width: int, height: int, max_side: int
) -> None:
    fed_width, fed_height, scale = inference_size(width, height, max_side)
    assert 1 <= fed_width <= max_side and 1 <= fed_height <= max_side
    if width <= max_side and height <= max_side:
        assert (fed_width, fed_height, scale) == (width, height, 1.0)
    else:
        assert max(fed_width, fed_height) == max_side
        assert abs(fed_width - width * scale) <= 0.5 or fed_width == 1
        assert abs(fed_height - height * scale) <= 0.5 or fed_height == 1


def test_inference_size_rejects_empty_images() -> None:
    with pytest.raises(ValueError):
        inference_size(0, 10, 1024)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_the_model_sees_the_seed_size_whatever_the_codec(
    detector: FaceDetector, suffix: str
) -> None:
    # JPEG shrink-on-load rounds its own way; the seed's numbers must hold regardless.
    data = pyvips.Image.black(125, 2000, bands=3).cast("uchar").write_to_buffer(suffix)
    image, width, height = inference_image(data, 1024)
    assert (image.width, image.height, width, height) == (64, 1024, 125, 2000)
    assert detector.detect_bytes(data) == ([], 125, 2000)


@pytest.mark.parametrize("size", [(2726, 4103), (4989, 47), (4515, 2092)])
def test_shrink_on_load_gives_exactly_the_inference_size(size: tuple[int, int]) -> None:
    data = pyvips.Image.black(*size, bands=3).cast("uchar").write_to_buffer(".jpg")
    image, width, height = inference_image(data, 1024)
    assert (image.width, image.height) == inference_size(width, height, 1024)[:2]
    assert (width, height) == size


def test_grey_one_band_photo(detector: FaceDetector) -> None:
    camera = next(e for e in MANIFEST if e["file"].endswith("camera.png"))
    image = pyvips.Image.new_from_file(str(FACES / camera["file"]))
    assert image.bands == 1
    faces = detector.detect_image(image)
    assert len(faces) == 1 and best_iou(faces, camera["faces"][0]) >= 0.4


def test_sixteen_bit_grey_photo(detector: FaceDetector) -> None:
    image = pyvips.Image.new_from_file(str(FACES / ASTRONAUT["file"])).colourspace("grey16")
    assert image.format == "ushort"
    faces = detector.detect_image(image)
    assert len(faces) == 1 and best_iou(faces, ASTRONAUT["faces"][0]) >= 0.4


def test_transparent_surroundings_are_flattened(detector: FaceDetector) -> None:
    astronaut = pyvips.Image.new_from_file(str(FACES / ASTRONAUT["file"])).bandjoin(255)
    canvas = astronaut.embed(200, 100, 900, 700, extend="black")  # black with alpha 0
    assert canvas.bands == 4 and canvas.hasalpha()
    x1, y1, x2, y2 = ASTRONAUT["faces"][0]
    moved = (x1 + 200, y1 + 100, x2 + 200, y2 + 100)
    faces = detector.detect_image(canvas)
    assert len(faces) == 1 and best_iou(faces, moved) >= 0.4
    from_png, width, height = detector.detect_bytes(canvas.write_to_buffer(".png"))
    assert (width, height) == (900, 700)
    assert len(from_png) == 1 and best_iou(from_png, moved) >= 0.4


def _astronaut_on_big_canvas() -> tuple[pyvips.Image, tuple[float, float, float, float]]:
    """The astronaut at twice its size on a 3000x2000 grey canvas at (1500, 600)."""
    astronaut = pyvips.Image.new_from_file(str(FACES / ASTRONAUT["file"])).resize(2)
    canvas = astronaut.embed(1500, 600, 3000, 2000, extend="background", background=[128] * 3)
    x1, y1, x2, y2 = ASTRONAUT["faces"][0]
    return canvas, (x1 * 2 + 1500, y1 * 2 + 600, x2 * 2 + 1500, y2 * 2 + 600)


def test_faces_come_back_in_pixels_of_a_large_original(detector: FaceDetector) -> None:
    canvas, where = _astronaut_on_big_canvas()
    faces, width, height = detector.detect_bytes(canvas.write_to_buffer(".jpg", Q=90))
    assert (width, height) == (3000, 2000)
    assert len(faces) == 1 and best_iou(faces, where) >= 0.5
    (face,) = faces
    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    assert where[0] < left_eye[0] < right_eye[0] < where[2]


def test_large_decoded_image_is_shrunk_and_mapped_back(detector: FaceDetector) -> None:
    canvas, where = _astronaut_on_big_canvas()
    faces = detector.detect_image(canvas)
    assert len(faces) == 1 and best_iou(faces, where) >= 0.5


def test_faces_come_back_in_pixels_of_the_upright_original(detector: FaceDetector) -> None:
    canvas, where = _astronaut_on_big_canvas()
    # Stored turned a quarter left, with EXIF orientation 6 ("turn right to view").
    stored = canvas.rot270().copy()
    stored.set_type(pyvips.GValue.gint_type, "orientation", 6)
    data = stored.write_to_buffer(".jpg", Q=90)
    faces, width, height = detector.detect_bytes(data)
    assert (width, height) == (3000, 2000)
    assert len(faces) == 1 and best_iou(faces, where) >= 0.5


def test_detect_image_takes_the_image_as_given(detector: FaceDetector) -> None:
    astronaut = pyvips.Image.new_from_file(str(FACES / ASTRONAUT["file"]))
    stored = astronaut.rot270().copy()  # 512x512: a quarter turn left
    stored.set_type(pyvips.GValue.gint_type, "orientation", 6)
    x1, y1, x2, y2 = ASTRONAUT["faces"][0]
    as_stored = (y1, 512 - x2, y2, 512 - x1)  # the label turned a quarter left
    decoded = pyvips.Image.new_from_buffer(stored.write_to_buffer(".png"), "")
    faces = detector.detect_image(decoded)
    assert len(faces) == 1 and best_iou(faces, as_stored) >= 0.4


def test_face_round_trips_through_json() -> None:
    face = Face(
        box=(1.5, 2.0, 30.25, 40.0),
        landmarks=((5.0, 6.0), (7.0, 6.0), (6.0, 8.0), (5.5, 9.0), (6.5, 9.0)),
        score=0.99,
    )
    assert Face.from_dict(json.loads(json.dumps(face.to_dict()))) == face


def test_model_that_does_not_match_its_checksum_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "retinaface.onnx"
    shutil.copyfile(MODEL_PATH, model)
    (tmp_path / "retinaface.onnx.sha256").write_text("0" * 64 + "  retinaface.onnx\n")
    with pytest.raises(ModelChecksumError):
        FaceDetector(model_path=model)


def test_finds_the_faces_of_a_heic_photo(detector: FaceDetector) -> None:
    """A phone's HEIC: libvips cannot decode its pixels, pillow-heif's decoder does."""
    jpeg = read_photo("multi_face")
    in_jpeg, width, height = detector.detect_bytes(jpeg)
    in_heic, heic_width, heic_height = detector.detect_bytes(heic(pillow_of(jpeg)))
    assert (heic_width, heic_height) == (width, height)
    assert len(in_heic) == len(in_jpeg) == 5
    for face in in_jpeg:
        assert best_iou(in_heic, face.box) >= 0.8


def test_the_int8_model_is_chosen_only_where_it_was_checked() -> None:
    assert model_for("auto", 640) == INT8_MODEL_PATH
    assert model_for("auto", 320) == INT8_MODEL_PATH
    assert model_for("auto", 1024) == MODEL_PATH
    assert model_for("int8", 1024) == INT8_MODEL_PATH  # asked for by name
    assert model_for("float", 640) == MODEL_PATH
    with pytest.raises(ValueError, match="auto or one of int8, float"):
        model_for("fp16", 640)
