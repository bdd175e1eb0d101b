"""Face detection with RetinaFace (MobileNetV2) on ONNX Runtime.

Detection only: the model returns boxes, five landmarks and a score per face. Nothing here
can describe or compare a face, so nothing here can tell two images show the same person.

The model files are `model/retinaface.onnx` and the same weights quantized to INT8,
`model/retinaface.int8.onnx` (see `model/README.md` for where they come from); a model's
SHA-256 is checked against its `.sha256` file every time it is loaded.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyvips

from focal.extras import import_extra
from focal.pipeline.geometry import Box
from focal.pipeline.heic import decode_heic, needs_heif_decoder
from focal.pipeline.source import Limits, probe
from focal.vips import load_options

if TYPE_CHECKING:  # numpy and ONNX Runtime load only where detection runs: the worker processes
    import numpy as np
    import numpy.typing as npt

MODEL_PATH = Path(__file__).resolve().parent / "model" / "retinaface.onnx"
# The same weights quantized to INT8 by `make model` (tools/quantize_retinaface.py): the same
# faces on the labelled photos at about half the CPU: the default up to INT8_MAX_SIDE.
INT8_MODEL_PATH = MODEL_PATH.with_name("retinaface.int8.onnx")
MODELS = {"int8": INT8_MODEL_PATH, "float": MODEL_PATH}  # by setting name (detector_model)
# The INT8 model's ranges were calibrated, and its boxes checked against the float model's, at
# detection sizes up to this. At 1024 it misses a labelled face and adds two false boxes (and
# calibrating at 1024 needs more memory than this machine has), so the default above it is
# the float model.
INT8_MAX_SIDE = 640

DEFAULT_MAX_SIDE = 640  # see the README (faces): recall, CPU and memory per size
# Chosen with tools/eval_faces.py (--threshold 0.5 --sizes 160,...,1280 shows the raw scores).
# The graph itself drops anything below 0.5. At the photos' own sizes every labelled face scores
# 0.9999 and the only other detection is the quokka at 0.57. On copies resized to a longer side
# of 160-1280 px, faces at least 24 px high score 0.95 or more, except a 27 px profile (0.77);
# but a cat or quokka face enlarged to 300+ px scores 0.91-0.99 (as does a second box on a human
# face enlarged to fill the frame), as high as small human faces, so no threshold removes those
# without losing people. Missing a person hurts a crop more than framing a pet.
DEFAULT_SCORE_THRESHOLD = 0.9
# Off by default: on the labelled set every false detection is large (300+ px), so a lower bound
# removes nothing wrong. Compared with the shorter box side in pixels of the image fed to the
# model (at most max_side), where RetinaFace's smallest anchor is 16 px.
DEFAULT_MIN_FACE_SIZE = 0.0

# A box whose area lies this much inside a better-scored box is a second box for that face
# (the graph's own NMS compares IoU, which a small box inside a large one keeps low).
DEFAULT_CONTAINMENT = 0.6
# Checks of a box's own landmarks and shape that tell a human face from the model's false
# detections, measured with tools/eval_faces.py on the labelled photos at their own sizes and
# resized (longer side 160-1280 px): human faces have box height/width 1.07-1.45, eyes
# 0.14-0.52 of the box width apart (0.33 or more when the nose lies between them, with either
# model: 0.326 for a 33 px face with the INT8 one, 0.338 with the float one; less only in
# profile, where the nose lies beyond the near eye), and the mouth 0.28-0.42 of the box height
# below the eyes. Backs of heads give boxes 1.72-1.75 high per width with the eyes 0.02-0.05
# apart; cat and squirrel heads give eyes 0.13-0.31 apart with the nose between them (0.20 at
# most among those scoring 0.9 or more).
MIN_EYE_DISTANCE = 0.1  # of the box width
FRONTAL_MIN_EYE_DISTANCE = 0.3  # of the box width, when the nose lies between the eyes
MIN_ASPECT, MAX_ASPECT = 0.9, 1.6  # box height / width, with room for rounder faces
MIN_EYES_TO_MOUTH = 0.1  # of the box height, the mouth below the eyes
# ONNX Runtime's execution providers by setting name; CPU is always the last resort.
PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
}

# The graph downsamples by 32, so its input sides must be multiples of 32.
_STRIDE = 32
_INPUT = "x:0"
_OUTPUT = "Identity:0"
# Output columns: box x1 y1 x2 y2, five (x, y) landmarks, landmark-valid flag, score.
_BOX = slice(0, 4)
_LANDMARKS = slice(4, 14)
_SCORE = 15
# EXIF orientations that turn the image a quarter turn, swapping width and height.
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})


class ModelChecksumError(RuntimeError):
    """The model file is not the one its .sha256 file describes."""


@dataclass(frozen=True)
class Face:
    """One detected face, in pixels of the image it was detected in.

    `landmarks` are left eye, right eye, nose, left and right mouth corner, as (x, y).
    Boxes and landmarks are clipped to the image.
    """

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    landmarks: tuple[tuple[float, float], ...]
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "landmarks": [list(point) for point in self.landmarks],
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Face:
        x1, y1, x2, y2 = (float(v) for v in data["box"])
        landmarks = tuple((float(x), float(y)) for x, y in data["landmarks"])
        return cls(box=(x1, y1, x2, y2), landmarks=landmarks, score=float(data["score"]))


def face_boxes(faces: Sequence[Face]) -> tuple[Box, ...]:
    """Faces as the pipeline's boxes, for gravity=face."""
    return tuple(Box(face.box[0], face.box[1], face.width, face.height) for face in faces)


def inference_size(width: int, height: int, max_side: int) -> tuple[int, int, float]:
    """Size of the copy the model sees, and its scale relative to the original.

    Images within max_side x max_side go to the model as they are. Larger ones are scaled,
    keeping their aspect ratio, to fit in that square: 125x2000 becomes 64x1024 at scale
    0.512. Scaled sides are rounded to the nearest pixel and never drop below one.
    """
    if width < 1 or height < 1 or max_side < 1:
        raise ValueError(f"sizes must be positive, got {width}x{height} in {max_side}")
    if width <= max_side and height <= max_side:
        return width, height, 1.0
    scale = max_side / max(width, height)

    def scaled(side: int) -> int:
        return min(max_side, max(1, math.floor(side * scale + 0.5)))

    return scaled(width), scaled(height), scale


def _area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def contained_share(inner: Face, outer: Face) -> float:
    """How much of `inner`'s box area lies inside `outer`'s box (0 to 1)."""
    a, b = inner.box, outer.box
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    area = _area(a)
    if width <= 0 or height <= 0 or area <= 0:
        return 0.0
    return width * height / area


def suppress_contained(faces: Sequence[Face], share: float = DEFAULT_CONTAINMENT) -> list[Face]:
    """Faces best first, without any box mostly (`share`) inside a better one or holding a
    better one mostly inside it: one box per face."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(
            contained_share(face, better) < share and contained_share(better, face) < share
            for better in kept
        ):
            kept.append(face)
    return kept


def looks_human(face: Face) -> bool:
    """Whether a detection's box shape and landmarks are those of a human face (see
    MIN_EYE_DISTANCE and the constants beside it for what was measured).

    Measured in the face's own frame, from the line between its eyes, so that a face lying on
    its side (a photo turned without an EXIF orientation) passes as an upright one does.
    """
    (left_x, left_y), (right_x, right_y), (nose_x, nose_y), mouth_left, mouth_right = face.landmarks
    eye_dx, eye_dy = right_x - left_x, right_y - left_y
    eye_distance = math.hypot(eye_dx, eye_dy)
    if eye_distance == 0:
        return False
    across_x, across_y = eye_dx / eye_distance, eye_dy / eye_distance  # eye to eye
    down_x, down_y = -across_y, across_x  # towards the chin
    # The box's extent along each axis of the face.
    face_width = abs(across_x) * face.width + abs(across_y) * face.height
    face_height = abs(down_x) * face.width + abs(down_y) * face.height
    if face_width <= 0 or not MIN_ASPECT <= face_height / face_width <= MAX_ASPECT:
        return False
    if eye_distance < MIN_EYE_DISTANCE * face_width:
        return False
    mouth_x = (mouth_left[0] + mouth_right[0] - left_x - right_x) / 2
    mouth_y = (mouth_left[1] + mouth_right[1] - left_y - right_y) / 2
    if mouth_x * down_x + mouth_y * down_y < MIN_EYES_TO_MOUTH * face_height:
        return False
    # Where the nose falls along the line from one eye to the other: 0..1 between them.
    along = ((nose_x - left_x) * across_x + (nose_y - left_y) * across_y) / eye_distance
    return not (0.0 <= along <= 1.0 and eye_distance < FRONTAL_MIN_EYE_DISTANCE * face_width)


def model_for(name: str, max_side: int) -> Path:
    """The model file for a detector_model setting: `auto` is the INT8 model at detection
    sizes up to INT8_MAX_SIDE and the float one above."""
    if name == "auto":
        name = "int8" if max_side <= INT8_MAX_SIDE else "float"
    if name not in MODELS:
        raise ValueError(f"the model must be auto or one of {', '.join(MODELS)}, got {name!r}")
    return MODELS[name]


def model_checksum(model_path: Path) -> str:
    """The SHA-256 a model file must have, from its .sha256 file beside it."""
    return model_path.with_name(model_path.name + ".sha256").read_text().split()[0].lower()


def _load_verified(model_path: Path) -> bytes:
    checksum_path = model_path.with_name(model_path.name + ".sha256")
    expected = model_checksum(model_path)
    data = model_path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelChecksumError(
            f"{model_path} has sha256 {actual}, {checksum_path.name} expects {expected}; "
            "rebuild it with `make model`"
        )
    return data


def _as_rgb8(image: pyvips.Image) -> pyvips.Image:
    """Any band layout, depth or colour space as 8-bit sRGB, alpha flattened onto white."""
    try:
        image = image.colourspace("srgb")
    except pyvips.Error:
        # Bands with no known colour space: read the first three as RGB, as viewers do.
        image = image.copy(interpretation="multiband")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands < 3:
        image = image[0].bandjoin([image[0], image[0]])
    elif image.bands > 3:
        image = image[:3]
    return image.cast("uchar")


def _padded_batch(image: pyvips.Image) -> npt.NDArray[np.float32]:
    """The image as the graph wants it: [1, H, W, 3] float 0-255, zero-padded to a stride."""
    import numpy as np

    pixels = image.numpy()
    height, width = pixels.shape[:2]
    padded = np.zeros(
        (1, -(-height // _STRIDE) * _STRIDE, -(-width // _STRIDE) * _STRIDE, 3),
        dtype=np.float32,
    )
    padded[0, :height, :width] = pixels
    return padded


def _clip(value: float, limit: float) -> float:
    return min(max(value, 0.0), limit)


def _scale_face(face: Face, sx: float, sy: float, width: int, height: int) -> Face:
    x1, y1, x2, y2 = face.box
    return Face(
        box=(
            _clip(x1 * sx, width),
            _clip(y1 * sy, height),
            _clip(x2 * sx, width),
            _clip(y2 * sy, height),
        ),
        landmarks=tuple((_clip(x * sx, width), _clip(y * sy, height)) for x, y in face.landmarks),
        score=face.score,
    )


def original_size(data: bytes) -> tuple[int, int]:
    """Width and height of the encoded image once turned upright by its EXIF orientation.

    Reads the header only.
    """
    header = pyvips.Image.new_from_buffer(data, load_options(), access="sequential")
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    if orientation in _TRANSPOSING_ORIENTATIONS:
        return header.height, header.width
    return header.width, header.height


def inference_image(
    data: bytes, max_side: int, limits: Limits | None = None
) -> tuple[pyvips.Image, int, int]:
    """The upright image at its `inference_size`, plus the upright original's width and height.

    The source limits are checked from the header first (a FocalError past them): a
    decompression bomb is refused before it costs any decoding. libvips shrinks while it loads
    (JPEG, WebP and HEIF decode at reduced size; other formats stream), so a large original is
    never held in memory at full size.
    """
    source = probe(data, limits)
    width, height = source.width, source.height
    inference_width, inference_height, _ = inference_size(width, height, max_side)
    if needs_heif_decoder(source):  # no HEVC decoder in libvips: decoded whole, then shrunk
        image = decode_heic(data).thumbnail_image(
            inference_width, height=inference_height, size="force"
        )
        return image, width, height
    # "force" with the computed size gives exactly that size; "down" can be a pixel off when
    # JPEG shrink-on-load rounds.
    image = pyvips.Image.thumbnail_buffer(
        data,
        inference_width,
        height=inference_height,
        size="force",
        option_string=load_options(),
    )
    return image, width, height


class FaceDetector:
    """RetinaFace, loaded once per instance; cheap to call many times, safe across threads."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        min_face_size: float = DEFAULT_MIN_FACE_SIZE,
        max_side: int = DEFAULT_MAX_SIDE,
        intra_op_threads: int = 1,
        provider: str = "cpu",
        limits: Limits | None = None,
        checks: bool = True,
    ) -> None:
        """`limits`: what an original may be (default: the pipeline's); larger ones are
        refused with a FocalError before decoding. `model_path`: default `model_for("auto",
        max_side)`. `provider`: a key of PROVIDERS. `checks`:
        drop detections that do not look human (`looks_human`) and second boxes of one face
        (`suppress_contained`); off, the graph's own output as it is (for measuring)."""
        if max_side < _STRIDE:
            raise ValueError(f"max_side must be at least {_STRIDE}, got {max_side}")
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, got {provider!r}")
        self.score_threshold = score_threshold
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.checks = checks
        self.limits = limits or Limits()
        onnxruntime = import_extra("onnxruntime", "face detection")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Threads that spin between operators burn a core the server's own work could use.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Inputs change size with every image: a memory arena and planned memory patterns
        # would keep the largest size's buffers for the life of the worker.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        # Errors only: the converted Resize uses the deprecated (still supported) attribute
        # tf_half_pixel_for_nn, which ONNX Runtime warns about through its process-wide logger.
        onnxruntime.set_default_logger_severity(3)
        wanted = PROVIDERS[provider]
        if wanted[0] not in onnxruntime.get_available_providers():
            raise RuntimeError(
                f"the {provider} execution provider is not in this ONNX Runtime "
                f"(it has {', '.join(onnxruntime.get_available_providers())}): for cuda, "
                "install onnxruntime-gpu in place of onnxruntime, or set "
                "FOCAL_DETECTOR_PROVIDER=cpu"
            )
        self._session = onnxruntime.InferenceSession(
            _load_verified(model_path or model_for("auto", max_side)),
            sess_options=options,
            providers=wanted,
        )

    def detect_image(self, image: pyvips.Image) -> list[Face]:
        """Faces in a decoded image, in its pixels, best first.

        The image is used as given, without autorotation. One larger than max_side is shrunk
        to its `inference_size` first; `detect_bytes` avoids decoding it at full size at all.
        """
        width, height = image.width, image.height
        fed_width, fed_height, _ = inference_size(width, height, self.max_side)
        if (fed_width, fed_height) != (width, height):
            image = image.thumbnail_image(
                fed_width, height=fed_height, size="force", no_rotate=True
            )
        rgb = _as_rgb8(image)
        batch = _padded_batch(rgb)
        rows: npt.NDArray[np.float32] = self._session.run([_OUTPUT], {_INPUT: batch})[0]
        padded_height, padded_width = batch.shape[1:3]
        sx, sy = padded_width * width / fed_width, padded_height * height / fed_height
        faces = [
            _scale_face(self._face_from_row(row), sx, sy, width, height)
            for row in rows
            if float(row[_SCORE]) >= self.score_threshold
        ]
        faces = [
            f for f in faces if min(f.width, f.height) * fed_width / width >= self.min_face_size
        ]
        if self.checks:
            faces = suppress_contained([face for face in faces if looks_human(face)])
        return sorted(faces, key=lambda face: face.score, reverse=True)

    def detect_bytes(self, data: bytes) -> tuple[list[Face], int, int]:
        """Faces in an encoded image, in pixels of the upright original, plus its size.

        Large images are shrunk while loading (see `inference_image`).
        """
        small, width, height = inference_image(data, self.max_side, self.limits)
        faces = self.detect_image(small)
        sx, sy = width / small.width, height / small.height
        return [_scale_face(face, sx, sy, width, height) for face in faces], width, height

    @staticmethod
    def _face_from_row(row: npt.NDArray[np.float32]) -> Face:
        """A face in fractions of the padded input, as the graph gives it."""
        x1, y1, x2, y2 = (float(v) for v in row[_BOX])
        points = [float(v) for v in row[_LANDMARKS]]
        return Face(
            box=(x1, y1, x2, y2),
            landmarks=tuple(zip(points[0::2], points[1::2], strict=True)),
            score=float(row[_SCORE]),
        )
