"""Build src/focal/faces/model/retinaface.int8.onnx: the float model's weights quantized to INT8.

ONNX Runtime's static quantization in QDQ form: per-channel INT8 weights, UINT8 activations,
ranges from the 99.999th percentile of each activation over the calibration images. The graph
is first simplified by `quant_pre_process` (its zero Pads fold into the convolutions). Then the
backbone and the feature pyramid are quantized with the operators between their convolutions
(ReLU6 clips, pads, residual adds, leaky ReLUs), so that activations stay INT8 from one
convolution to the next instead of being converted back and forth. Two parts compute in float:
the first convolution (three input channels, where INT8 is slower than float) and the nine
output heads (scores, boxes, landmarks), as does the box decoding, which depends on the input
size. (Keeping the whole feature pyramid in float as well costs 6 ms more per image and moves
the boxes no nearer the float model's.)

Calibration runs on the labelled photos of tests/data/faces as the detector sees them at 640
and at 416 px, each zero-padded to 640x640 (percentiles need inputs of one shape), in file-name
order, so the same inputs give the same bytes every time.

The model is written only if its boxes match the float model's on every labelled photo: the
same number of faces, each at IoU >= 0.75 with its float twin. The lowest is 0.80, on a 35x44
px face whose edges move by two or three pixels; there the INT8 box is nearer the hand-drawn
label than the float one (IoU 0.77 against 0.70), as it is on the other face below 0.9.

    python tools/quantize_retinaface.py            # build, check against the committed checksum
    python tools/quantize_retinaface.py --update   # build and record a new checksum
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from export_retinaface import run, throwaway_env  # this folder is the script's first path

REPO = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO / "src" / "focal" / "faces" / "model"
FLOAT_MODEL = MODEL_DIR / "retinaface.onnx"
INT8_MODEL = MODEL_DIR / "retinaface.int8.onnx"
CHECKSUM_PATH = MODEL_DIR / "retinaface.int8.onnx.sha256"
MANIFEST = REPO / "tests" / "data" / "faces" / "manifest.json"
QUANTIZER_REQUIREMENTS = [
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
    "protobuf==7.36.2",
    "flatbuffers==25.12.19",
    "ml_dtypes==0.7.0",
    "packaging==26.4",
    "typing_extensions==4.16.0",
]
MIN_BOX_IOU = 0.75
CALIBRATION_SIDES = (640, 416)
CALIBRATION_SHAPE = 640  # every calibration input is zero-padded to this square
# Between two quantized convolutions; what is not among float_nodes.
QUANTIZED_OPERATORS = ["Conv", "Clip", "Pad", "Add", "Relu", "LeakyRelu"]


def photos() -> list[Path]:
    entries = json.loads(MANIFEST.read_text())
    return [MANIFEST.parent / entry["file"] for entry in sorted(entries, key=lambda e: e["file"])]


def write_calibration(folder: Path) -> None:
    """Each labelled photo as the model sees it at each calibration size, one .npy file each."""
    import numpy as np

    from focal.faces.detector import _as_rgb8, inference_image

    folder.mkdir()
    index = 0
    for path in photos():
        for side in CALIBRATION_SIDES:
            image, _, _ = inference_image(path.read_bytes(), side)
            pixels = _as_rgb8(image).numpy()
            batch = np.zeros((1, CALIBRATION_SHAPE, CALIBRATION_SHAPE, 3), dtype=np.float32)
            batch[0, : pixels.shape[0], : pixels.shape[1]] = pixels
            np.save(folder / f"{index:03d}.npy", batch)
            index += 1


def float_nodes(model_path: Path) -> list[str]:
    """The convolutions that stay in float: the first one and the output heads (those whose
    output goes straight to a Transpose, on its way to the box decoding)."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    readers: dict[str, list[str]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node.op_type)
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    heads = [n.name for n in convolutions if "Transpose" in readers.get(n.output[0], [])]
    return [convolutions[0].name, *heads]


def quantize(source: Path, target: Path, calibration: Path) -> None:
    """Runs inside the throwaway environment."""
    import numpy as np
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Batches(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.files = iter(sorted(calibration.glob("*.npy")))

        def get_next(self) -> dict[str, object] | None:
            path = next(self.files, None)
            return None if path is None else {"x:0": np.load(path)}

    simplified = target.with_name("simplified.onnx")
    # ONNX Runtime's basic graph optimisations (constant folding, Pad into Conv); the symbolic
    # shape inference is for transformer graphs and is skipped.
    quant_pre_process(str(source), str(simplified), skip_symbolic_shape=True)
    quantize_static(
        str(simplified),
        str(target),
        Batches(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.Percentile,
        op_types_to_quantize=QUANTIZED_OPERATORS,
        nodes_to_exclude=float_nodes(simplified),
        extra_options={"CalibPercentile": 99.999},
    )


def boxes_match(candidate: Path) -> list[str]:
    """What differs between the float model's faces and the candidate's, photo by photo."""
    from eval_faces import iou

    from focal.faces import FaceDetector

    reference = FaceDetector(model_path=FLOAT_MODEL)
    quantized = FaceDetector(model_path=candidate)
    problems = []
    for path in photos():
        data = path.read_bytes()
        expected, actual = reference.detect_bytes(data)[0], quantized.detect_bytes(data)[0]
        if len(expected) != len(actual):
            problems.append(
                f"{path.name}: {len(actual)} faces, the float model finds {len(expected)}"
            )
            continue
        for face in expected:
            best = max((iou(face.box, other.box) for other in actual), default=0.0)
            if best < MIN_BOX_IOU:
                problems.append(f"{path.name}: a face at IoU {best:.2f} with the float model's")
    return problems


def build(update: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="focal-int8-"))
    try:
        write_calibration(work / "calibration")
        python = throwaway_env(work, QUANTIZER_REQUIREMENTS)
        candidate = work / INT8_MODEL.name
        run(
            [
                str(python),
                __file__,
                "quantize",
                str(FLOAT_MODEL),
                str(candidate),
                str(work / "calibration"),
            ]
        )
        digest = hashlib.sha256(candidate.read_bytes()).hexdigest()
        (work / (INT8_MODEL.name + ".sha256")).write_text(f"{digest}  {INT8_MODEL.name}\n")
        problems = boxes_match(candidate)
        if problems:
            raise SystemExit("INT8 model not kept, its boxes differ:\n  " + "\n  ".join(problems))
        expected = CHECKSUM_PATH.read_text().split()[0] if CHECKSUM_PATH.exists() else None
        if expected is not None and expected != digest and not update:
            raise SystemExit(
                f"built INT8 model has sha256 {digest}, {CHECKSUM_PATH.name} says {expected}; "
                "nothing written (pass --update to accept the new model)"
            )
        shutil.copyfile(candidate, INT8_MODEL)
        CHECKSUM_PATH.write_text(f"{digest}  {INT8_MODEL.name}\n")
        print(f"{INT8_MODEL.relative_to(REPO)}  sha256 {digest}  boxes match the float model's")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="accept a new checksum")
    steps = parser.add_subparsers(dest="step")
    step = steps.add_parser("quantize")
    step.add_argument("source", type=Path)
    step.add_argument("target", type=Path)
    step.add_argument("calibration", type=Path)
    args = parser.parse_args()
    if args.step == "quantize":
        quantize(args.source, args.target, args.calibration)
    else:
        build(update=args.update)


if __name__ == "__main__":
    main()
