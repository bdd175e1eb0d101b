"""The checks after the graph: one box per face, and no box for what is not a human face.

On real photos: the raw graph's false detections (a squirrel's head, the back of a man's head,
a second box on an enlarged face), measured with the float model (the INT8 one scores the
back of the head below the threshold), and the detector's answer with its checks on, with
either model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import pyvips
from hypothesis import given
from hypothesis import strategies as st

from focal.faces import MODEL_PATH, MODELS, Face, FaceDetector
from focal.faces.detector import contained_share, looks_human, suppress_contained

FACES = Path(__file__).parent.parent / "data" / "faces"
MANIFEST: list[dict[str, Any]] = json.loads((FACES / "manifest.json").read_text())
TOOLS = Path(__file__).parent.parent.parent / "tools"


def photo(name: str) -> bytes:
    return (FACES / "images" / name).read_bytes()


def label(name: str) -> list[list[float]]:
    return next(e["faces"] for e in MANIFEST if e["file"].endswith(name))


@pytest.fixture(scope="module")
def raw() -> FaceDetector:
    """The float graph's own output above the default score, at up to 1024 px."""
    return FaceDetector(model_path=MODEL_PATH, max_side=1024, checks=False)


@pytest.fixture(scope="module")
def checked() -> FaceDetector:
    return FaceDetector(model_path=MODEL_PATH, max_side=1024)


def overlaps(box: tuple[float, float, float, float], label: list[float]) -> bool:
    x1, y1, x2, y2 = label
    return box[0] < x2 and box[2] > x1 and box[1] < y2 and box[3] > y1


@pytest.mark.parametrize("model", sorted(MODELS))
def test_each_model_finds_exactly_the_labelled_faces(model: str) -> None:
    """With its checks on, at the server's detection size: one box per labelled face, nothing
    on the squirrel, the quokka, the cat or the back of a head."""
    detector = FaceDetector(model_path=MODELS[model])
    for entry in MANIFEST:
        found = detector.detect_bytes((FACES / entry["file"]).read_bytes())[0]
        assert len(found) == len(entry["faces"]), entry["file"]
        for label in entry["faces"]:
            assert sum(overlaps(face.box, label) for face in found) == 1, (entry["file"], label)


def test_a_squirrels_head_is_no_face(raw: FaceDetector, checked: FaceDetector) -> None:
    squirrel = photo("opencv-doc__squirrel_cls.jpg")
    (head,) = raw.detect_bytes(squirrel)[0]
    assert head.score >= 0.9  # the score alone cannot tell it from a person
    assert not looks_human(head)
    assert checked.detect_bytes(squirrel)[0] == []


def test_the_back_of_a_head_is_no_face(raw: FaceDetector, checked: FaceDetector) -> None:
    players = photo("opencv-doc__basketball1.png")
    ((x1, y1, x2, y2),) = label("opencv-doc__basketball1.png")
    found = raw.detect_bytes(players)[0]
    assert len(found) == 2
    back = next(face for face in found if face.box[0] > 300)  # the man on the right
    assert not looks_human(back)
    (face,) = checked.detect_bytes(players)[0]
    assert overlaps(face.box, [x1, y1, x2, y2])


def test_a_second_box_inside_an_enlarged_face_is_dropped(
    raw: FaceDetector, checked: FaceDetector
) -> None:
    portrait = pyvips.Image.new_from_buffer(photo("facexlib__test2.jpg"), "")
    enlarged = portrait.resize(1024 / portrait.height).write_to_buffer(".png")
    best, second = raw.detect_bytes(enlarged)[0]
    assert contained_share(second, best) >= 0.6
    assert suppress_contained([second, best]) == [best]
    assert checked.detect_bytes(enlarged)[0] == [best]


def test_every_labelled_face_looks_human(raw: FaceDetector) -> None:
    for entry in MANIFEST:
        for face in raw.detect_bytes((FACES / entry["file"]).read_bytes())[0]:
            labelled = any(overlaps(face.box, label) for label in entry["faces"])
            assert looks_human(face) == labelled, (entry["file"], face)


def _face(x: float, y: float, width: float, height: float, score: float) -> Face:
    cx = x + width / 2
    landmarks = (
        (cx - width * 0.2, y + height * 0.4),
        (cx + width * 0.2, y + height * 0.4),
        (cx, y + height * 0.55),
        (cx - width * 0.15, y + height * 0.75),
        (cx + width * 0.15, y + height * 0.75),
    )
    return Face(box=(x, y, x + width, y + height), landmarks=landmarks, score=score)


boxes = st.builds(
    _face,
    st.floats(0, 500),
    st.floats(0, 500),
    st.floats(1, 300),
    st.floats(1, 300),
    st.floats(0.9, 1.0),
)


@given(st.lists(boxes, max_size=8))
def test_no_kept_box_lies_mostly_inside_another(faces: list[Face]) -> None:
    kept = suppress_contained(faces)
    assert kept == sorted(kept, key=lambda face: face.score, reverse=True)
    if faces:
        assert kept[0].score == max(face.score for face in faces)
    for index, face in enumerate(kept):
        for other in kept[index + 1 :]:
            assert contained_share(other, face) < 0.6 and contained_share(face, other) < 0.6


def test_eval_faces_reports_precision_recall_and_faces_kept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make eval-faces` on a two-photo manifest: one face, one squirrel."""
    monkeypatch.syspath_prepend(str(TOOLS))
    import eval_faces

    entries = [e for e in MANIFEST if e["file"].endswith(("single_face.jpg", "squirrel_cls.jpg"))]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{**e, "file": str(FACES / e["file"])} for e in entries]))
    monkeypatch.setattr(
        sys, "argv", ["eval_faces.py", "--manifest", str(manifest), "--repeats", "1"]
    )
    assert eval_faces.main() == 0
    output = capsys.readouterr().out
    summary = output[output.index("summary") :].splitlines()[1:]
    assert [line.split()[0] for line in summary] == ["retinaface.onnx", "retinaface.int8.onnx"]
    for line in summary:
        assert "precision 1.000" in line and "recall 1.000" in line and "faces kept" in line
