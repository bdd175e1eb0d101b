"""Evaluate the face detector on labelled photos: precision, recall and time per image.

    python tools/eval_faces.py                       # tests/data/faces/manifest.json
    python tools/eval_faces.py --manifest PATH --threshold 0.5 --sizes 320,640,1024

A detection counts as a hit when it overlaps a labelled face with IoU >= 0.4 (one detection per
label, best overlaps first). Labelled faces below --min-face-height are left out: finding them is
not required, and a detection on one is neither a hit nor a false positive. `--sizes` also runs on
copies of each photo resized so that its longer side is N pixels (up or down), with the labels
scaled to match, to see how scores hold up for small faces and for large animal faces.

`evaluate_detection(manifest_path, detector)` returns the `Report` for reuse by other tools.

Then the crops: for each photo with faces, gravity=face with fit=cover at several sizes and
zooms, using the detector's boxes, and the share of labelled faces that lie fully inside the
crop. A face counts as kept when all four of its corners, marked in four pure colours on a grey
copy of the photo's size, are still in the output (the crop depends on the boxes and the size
only, not on the pixels). The crop is rendered at the photo's own scale (same aspect ratio as
the target) so that the marks stay large enough to see. "Possible" counts only faces of photos
where the outer box of all faces fits inside the largest cut of the target's aspect ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from focal.faces import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_SCORE_THRESHOLD,
    INT8_MODEL_PATH,
    MODEL_PATH,
    Face,
    FaceDetector,
    inference_size,
)
from focal.options import parse_options
from focal.pipeline import Box as PixelBox
from focal.pipeline import Limits, OutputSpec, run, url_operations

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = REPO / "tests" / "data" / "faces" / "manifest.json"
DEFAULT_IOU = 0.4
DEFAULT_MIN_FACE_HEIGHT = 24.0

Box = tuple[float, float, float, float]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap
    return overlap / union


@dataclass(frozen=True)
class ImageResult:
    file: str
    width: int
    height: int
    fed_size: tuple[int, int]  # what the model saw
    labelled: int  # faces at least min_face_height high
    hits: int
    false_positives: int
    hit_scores: tuple[float, ...]
    false_scores: tuple[float, ...]
    seconds: float  # median detect_bytes CPU time: decode, shrink-on-load and inference

    @property
    def missed(self) -> int:
        return self.labelled - self.hits


@dataclass(frozen=True)
class Report:
    images: tuple[ImageResult, ...]
    iou_threshold: float
    min_face_height: float

    @property
    def hits(self) -> int:
        return sum(image.hits for image in self.images)

    @property
    def labelled(self) -> int:
        return sum(image.labelled for image in self.images)

    @property
    def false_positives(self) -> int:
        return sum(image.false_positives for image in self.images)

    @property
    def precision(self) -> float:
        detected = self.hits + self.false_positives
        return self.hits / detected if detected else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.labelled if self.labelled else 1.0

    @property
    def lowest_hit_score(self) -> float | None:
        return min((s for image in self.images for s in image.hit_scores), default=None)

    @property
    def highest_false_score(self) -> float | None:
        return max((s for image in self.images for s in image.false_scores), default=None)


def match(
    faces: Sequence[Face], labels: Sequence[Box], iou_threshold: float, min_face_height: float
) -> tuple[int, list[float], list[float]]:
    """Greedy one-to-one matching, best overlap first: (hits, hit scores, false scores)."""
    pairs = sorted(
        (
            (iou(face.box, label), face_index, label_index)
            for face_index, face in enumerate(faces)
            for label_index, label in enumerate(labels)
        ),
        reverse=True,
    )
    face_used: set[int] = set()
    label_used: set[int] = set()
    hits: list[float] = []
    for overlap, face_index, label_index in pairs:
        if overlap < iou_threshold or face_index in face_used or label_index in label_used:
            continue
        face_used.add(face_index)
        label_used.add(label_index)
        # A detection of a face too small to count is neither a hit nor a false positive.
        x1, y1, x2, y2 = labels[label_index]
        if y2 - y1 >= min_face_height:
            hits.append(faces[face_index].score)
    false = [face.score for index, face in enumerate(faces) if index not in face_used]
    return len(hits), hits, false


def _resized(data: bytes, longest_side: int) -> tuple[bytes, float]:
    """The photo re-encoded (losslessly) with its longer side at longest_side pixels."""
    image = pyvips.Image.new_from_buffer(data, "").autorot()
    scale = longest_side / max(image.width, image.height)
    return image.resize(scale).write_to_buffer(".png"), scale


def evaluate_detection(
    manifest_path: Path,
    detector: FaceDetector,
    *,
    iou_threshold: float = DEFAULT_IOU,
    min_face_height: float = DEFAULT_MIN_FACE_HEIGHT,
    repeats: int = 3,
    longest_side: int | None = None,
) -> Report:
    """Run the detector over every photo of a manifest (see tests/data/faces/README.md)."""
    entries = json.loads(manifest_path.read_text())
    root = manifest_path.parent
    results = []
    for index, entry in enumerate(entries):
        data = (root / entry["file"]).read_bytes()
        scale = 1.0
        if longest_side is not None:
            data, scale = _resized(data, longest_side)
        labels: list[Box] = [
            (x1 * scale, y1 * scale, x2 * scale, y2 * scale) for x1, y1, x2, y2 in entry["faces"]
        ]
        if index == 0:
            detector.detect_bytes(data)  # warm-up: first inference allocates
        timings = []
        for _ in range(repeats):
            # CPU time (all threads), not wall time: it holds on a machine busy with other work.
            started = time.process_time()
            faces, width, height = detector.detect_bytes(data)
            timings.append(time.process_time() - started)
        hits, hit_scores, false_scores = match(faces, labels, iou_threshold, min_face_height)
        fed_width, fed_height, _ = inference_size(width, height, detector.max_side)
        results.append(
            ImageResult(
                file=entry["file"],
                width=width,
                height=height,
                fed_size=(fed_width, fed_height),
                labelled=sum(1 for box in labels if box[3] - box[1] >= min_face_height),
                hits=hits,
                false_positives=len(false_scores),
                hit_scores=tuple(hit_scores),
                false_scores=tuple(false_scores),
                seconds=statistics.median(timings),
            )
        )
    return Report(tuple(results), iou_threshold, min_face_height)


# A measurement, not a request: on a busy machine a crop may take longer than a server allows.
_NO_DEADLINE = Limits(transform_timeout=0)
CROP_SIZES = ((300, 300), (400, 200), (200, 400), (600, 400), (128, 128))
CROP_ZOOMS = (0.0, 0.25, 0.5, 0.75, 1.0)
_CORNER_COLOURS = ([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0])
_MARK = 8


@dataclass(frozen=True)
class CropResult:
    zoom: float
    size: tuple[int, int]
    faces: int
    kept: int
    possible_faces: int
    possible_kept: int


def _group_fits(entry: dict[str, Any], size: tuple[int, int]) -> bool:
    """Whether the image allows a cut of this aspect that holds every labelled face."""
    aspect = size[0] / size[1]
    width, height = entry["width"], entry["height"]
    x1 = min(f[0] for f in entry["faces"])
    y1 = min(f[1] for f in entry["faces"])
    x2 = max(f[2] for f in entry["faces"])
    y2 = max(f[3] for f in entry["faces"])
    return x2 - x1 <= min(width, height * aspect) and y2 - y1 <= min(height, width / aspect)


def _render_size(entry: dict[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    scale = max(1.0, max(entry["width"], entry["height"]) / max(size))
    return round(size[0] * scale), round(size[1] * scale)


def _marked_canvas(width: int, height: int, face: Box) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + 128).cast("uchar")
    x1, y1, x2, y2 = (int(round(v)) for v in face)
    mark = max(2, min(_MARK, (x2 - x1) // 3, (y2 - y1) // 3))
    corners = ((x1, y1), (x2 - mark, y1), (x1, y2 - mark), (x2 - mark, y2 - mark))
    for (x, y), colour in zip(corners, _CORNER_COLOURS, strict=True):
        image = image.draw_rect(colour, x, y, mark, mark, fill=True)
    return bytes(image.pngsave_buffer(compression=1))


def _all_corners_shown(png: bytes) -> bool:
    image = pyvips.Image.new_from_buffer(png, "")
    for colour in _CORNER_COLOURS:
        distance = ((image - colour) ** 2).bandmean() ** 0.5
        if distance.min() >= 60:
            return False
    return True


def evaluate_crops(manifest_path: Path, detector: FaceDetector) -> list[CropResult]:
    """Faces kept by gravity=face crops, per zoom and target size, over every labelled photo."""
    entries = [e for e in json.loads(manifest_path.read_text()) if e["faces"]]
    detected = {}
    for entry in entries:
        faces, _, _ = detector.detect_bytes((manifest_path.parent / entry["file"]).read_bytes())
        detected[entry["file"]] = tuple(
            PixelBox(f.box[0], f.box[1], f.width, f.height) for f in faces
        )
    results = []
    for zoom in CROP_ZOOMS:
        for size in CROP_SIZES:
            faces = kept = possible_faces = possible_kept = 0
            for entry in entries:
                width, height = _render_size(entry, size)
                options = parse_options(f"w={width},h={height},fit=cover,g=face,zoom={zoom}")
                possible = _group_fits(entry, size)
                for label in entry["faces"]:
                    out = run(
                        _marked_canvas(entry["width"], entry["height"], label),
                        url_operations(options),
                        OutputSpec(format="png"),
                        faces=detected[entry["file"]],
                        limits=_NO_DEADLINE,
                    )
                    shown = _all_corners_shown(out.data)
                    faces += 1
                    kept += shown
                    possible_faces += possible
                    possible_kept += possible and shown
            results.append(CropResult(zoom, size, faces, kept, possible_faces, possible_kept))
    return results


def format_crops(results: Sequence[CropResult]) -> str:
    lines = ["faces fully inside gravity=face,fit=cover crops (labelled faces, detected boxes)"]
    sizes = sorted({r.size for r in results}, key=lambda s: (s[0] * s[1], s))
    lines.append(f"{'zoom':>5} " + " ".join(f"{w}x{h:<5}".rjust(10) for w, h in sizes) + "   all")
    for zoom in sorted({r.zoom for r in results}):
        row = [r for r in results if r.zoom == zoom]
        by_size = {r.size: r for r in row}
        cells = " ".join(f"{by_size[s].kept / by_size[s].faces:>10.3f}" for s in sizes)
        total = sum(r.kept for r in row) / sum(r.faces for r in row)
        lines.append(f"{zoom:>5.2f} {cells} {total:>5.3f}")
    low = [r for r in results if r.zoom <= 0.5]
    share = sum(r.kept for r in low) / sum(r.faces for r in low)
    possible = sum(r.possible_kept for r in low) / sum(r.possible_faces for r in low)
    lines.append(
        f"faces kept at zoom <= 0.5: {share:.3f} of all, {possible:.3f} where the image allows"
    )
    return "\n".join(lines)


def format_report(report: Report, title: str) -> str:
    lines = [
        title,
        f"{'image':<40} {'size':>10} {'fed':>9} {'faces':>5} {'hit':>4} {'miss':>4} "
        f"{'false':>5} {'cpu ms':>6}  scores",
    ]
    for image in report.images:
        scores = " ".join(f"{s:.3f}" for s in image.hit_scores)
        if image.false_scores:
            scores += "  false: " + " ".join(f"{s:.3f}" for s in image.false_scores)
        lines.append(
            f"{Path(image.file).name:<40} {image.width:>5}x{image.height:<4} "
            f"{image.fed_size[0]:>4}x{image.fed_size[1]:<4} {image.labelled:>5} {image.hits:>4} "
            f"{image.missed:>4} {image.false_positives:>5} {image.seconds * 1000:>6.0f}  {scores}"
        )
    lowest, highest = report.lowest_hit_score, report.highest_false_score
    lines.append(
        f"precision {report.precision:.3f} ({report.hits}/{report.hits + report.false_positives})"
        f"  recall {report.recall:.3f} ({report.hits}/{report.labelled})"
        f"  at IoU {report.iou_threshold}, faces >= {report.min_face_height:g} px high"
    )
    lines.append(
        f"lowest hit score {'-' if lowest is None else f'{lowest:.4f}'}"
        f"  highest false score {'-' if highest is None else f'{highest:.4f}'}"
        f"  median CPU {statistics.median(i.seconds for i in report.images) * 1000:.0f} ms"
        f"  mean CPU {statistics.mean(i.seconds for i in report.images) * 1000:.0f} ms"
    )
    return "\n".join(lines)


def kept_share(results: Sequence[CropResult]) -> float:
    """Share of labelled faces fully inside the crops at zoom <= 0.5."""
    low = [r for r in results if r.zoom <= 0.5]
    return sum(r.kept for r in low) / sum(r.faces for r in low)


def models_to_evaluate(given: Sequence[Path]) -> list[Path]:
    """The models named, else the float model and, when `make model` built it, the INT8 one."""
    if given:
        return list(given)
    return [path for path in (MODEL_PATH, INT8_MODEL_PATH) if path.exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument(
        "--model", type=Path, action="append", default=[], help="ONNX model (repeatable)"
    )
    parser.add_argument("--threshold", type=float, help="score threshold (default: detector's)")
    parser.add_argument("--min-face-size", type=float, help="detector's minimum face size")
    parser.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument(
        "--raw", action="store_true", help="no shape, landmark or containment checks"
    )
    parser.add_argument("--iou", type=float, default=DEFAULT_IOU)
    parser.add_argument("--min-face-height", type=float, default=DEFAULT_MIN_FACE_HEIGHT)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--sizes", default="", help="longer sides to resize to, e.g. 320,640")
    parser.add_argument("--no-crops", action="store_true", help="skip the crop evaluation")
    args = parser.parse_args()

    summary = []
    for model in models_to_evaluate(args.model):
        detector = FaceDetector(
            model_path=model,
            max_side=args.max_side,
            intra_op_threads=args.threads,
            score_threshold=DEFAULT_SCORE_THRESHOLD if args.threshold is None else args.threshold,
            min_face_size=(
                DEFAULT_MIN_FACE_SIZE if args.min_face_size is None else args.min_face_size
            ),
            checks=not args.raw,
        )
        settings = (
            f"{model.name}, threshold {detector.score_threshold}, "
            f"min face size {detector.min_face_size:g}, max side {detector.max_side}, "
            f"{args.threads} thread(s), checks {'off' if args.raw else 'on'}"
        )
        report = evaluate_detection(
            args.manifest,
            detector,
            iou_threshold=args.iou,
            min_face_height=args.min_face_height,
            repeats=args.repeats,
        )
        reports = [(f"{args.manifest} ({settings})", report)]
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            resized = evaluate_detection(
                args.manifest,
                detector,
                iou_threshold=args.iou,
                min_face_height=args.min_face_height,
                repeats=1,
                longest_side=size,
            )
            reports.append((f"resized to longer side {size} ({settings})", resized))
        print("\n\n".join(format_report(r, title) for title, r in reports))
        line = (
            f"{model.name:<22} precision {report.precision:.3f}  recall {report.recall:.3f}"
            f"  mean CPU {statistics.mean(i.seconds for i in report.images) * 1000:.0f} ms"
        )
        if len(reports) > 1:
            hits = sum(r.hits for _, r in reports)
            found = sum(r.hits + r.false_positives for _, r in reports)
            labelled = sum(r.labelled for _, r in reports)
            line += (
                f"  with resized copies: precision {hits / found:.3f} recall {hits / labelled:.3f}"
            )
        if not args.no_crops:
            crops = evaluate_crops(args.manifest, detector)
            print()
            print(format_crops(crops))
            line += f"  faces kept {kept_share(crops):.3f}"
        summary.append(line)
        print()
    print("summary (faces kept: share of labelled faces inside gravity=face crops, zoom <= 0.5)")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
