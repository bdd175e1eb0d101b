"""Face detection for gravity=face: RetinaFace on ONNX Runtime, run in worker processes.

Detection only. Nothing in this package can recognise or compare people.
"""

from focal.faces.detector import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_SCORE_THRESHOLD,
    INT8_MAX_SIDE,
    INT8_MODEL_PATH,
    MODEL_PATH,
    MODELS,
    Face,
    FaceDetector,
    ModelChecksumError,
    inference_image,
    inference_size,
    model_for,
    original_size,
)
from focal.faces.workers import DetectionResult, DetectionUnavailable, DetectorPool

__all__ = [
    "DEFAULT_MAX_SIDE",
    "DEFAULT_MIN_FACE_SIZE",
    "DEFAULT_SCORE_THRESHOLD",
    "DetectionResult",
    "DetectionUnavailable",
    "DetectorPool",
    "Face",
    "FaceDetector",
    "INT8_MODEL_PATH",
    "INT8_MAX_SIDE",
    "MODELS",
    "MODEL_PATH",
    "ModelChecksumError",
    "inference_image",
    "inference_size",
    "model_for",
    "original_size",
]
