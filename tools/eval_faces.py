"""Evaluate the face detector on labelled photos: precision, recall and time per image.

    python tools/eval_faces.py                       # tests/data/faces/manifest.json
    python tools/eval_faces.py --manifest PATH --threshold 0.5 --sizes 320,640,1024

A detection counts as a hit when it overlaps a labelled face with IoU >= 0.4 (one detection per
label, best overlaps first). Labelled faces below --min-face-height are left out: finding them is
not required, and a detection on one is neither a hit nor a false positive. `--sizes` also runs on
copies of each photo resized so that its longer side is N pixels (up or down), with the labels
scaled to match, to see how scores hold up for small faces and for large animal faces.

`evaluate_detection(manifest_path, detector)` returns the `Report` for reuse by other tools.
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

import pyvips

from focal.faces import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_SCORE_THRESHOLD,
    Face,
    FaceDetector,
    inference_size,
)

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
    seconds: float  # median detect_bytes time: decode, shrink-on-load and inference

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
            started = time.perf_counter()
            faces, width, height = detector.detect_bytes(data)
            timings.append(time.perf_counter() - started)
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


def format_report(report: Report, title: str) -> str:
    lines = [
        title,
        f"{'image':<40} {'size':>10} {'fed':>9} {'faces':>5} {'hit':>4} {'miss':>4} "
        f"{'false':>5} {'ms':>6}  scores",
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
        f"  median time {statistics.median(i.seconds for i in report.images) * 1000:.0f} ms"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--threshold", type=float, help="score threshold (default: detector's)")
    parser.add_argument("--min-face-size", type=float, help="detector's minimum face size")
    parser.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--iou", type=float, default=DEFAULT_IOU)
    parser.add_argument("--min-face-height", type=float, default=DEFAULT_MIN_FACE_HEIGHT)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--sizes", default="", help="longer sides to resize to, e.g. 320,640")
    args = parser.parse_args()

    detector = FaceDetector(
        max_side=args.max_side,
        intra_op_threads=args.threads,
        score_threshold=DEFAULT_SCORE_THRESHOLD if args.threshold is None else args.threshold,
        min_face_size=DEFAULT_MIN_FACE_SIZE if args.min_face_size is None else args.min_face_size,
    )
    settings = (
        f"threshold {detector.score_threshold}, min face size {detector.min_face_size:g}, "
        f"max side {detector.max_side}, {args.threads} thread(s)"
    )
    reports = [
        (
            f"{args.manifest} ({settings})",
            evaluate_detection(
                args.manifest,
                detector,
                iou_threshold=args.iou,
                min_face_height=args.min_face_height,
                repeats=args.repeats,
            ),
        )
    ]
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        report = evaluate_detection(
            args.manifest,
            detector,
            iou_threshold=args.iou,
            min_face_height=args.min_face_height,
            repeats=1,
            longest_side=size,
        )
        reports.append((f"resized to longer side {size} ({settings})", report))
    print("\n\n".join(format_report(report, title) for title, report in reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
