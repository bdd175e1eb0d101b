"""AVIF against WebP at equal output size: `python -m bench.avif [--files N]`.

For each photo of the peers' corpus, fitted inside 400×300 and 1200×800: WebP at Focal's
settings (quality 80, effort 4) sets the size to match; AVIF's quality is searched (at
effort 2) for the same bytes within 5 %; then AVIF is encoded at that quality at each effort
and timed against WebP (CPU time of the process, encoder threads included, best of three). The
goal is AVIF ≤ 2 × WebP's time; the effort Focal uses is the one that meets it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyvips

import focal.vips  # noqa: F401  (Focal's libvips set-up)

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "bench-peers" / "corpus"
SIZES = ((400, 300), (1200, 800))
EFFORTS = (0, 1, 2, 3, 4)
WEBP = {"Q": 80, "effort": 4, "keep": 0}


def cpu_ms(encode: Callable[[], bytes], repeats: int = 3) -> tuple[float, int]:
    """Best-of CPU milliseconds of one encode, and its size in bytes."""
    best, size = float("inf"), 0
    for _ in range(repeats):
        started = time.process_time()
        size = len(encode())
        best = min(best, (time.process_time() - started) * 1000)
    return best, size


def avif(image: pyvips.Image, quality: int, effort: int) -> bytes:
    return bytes(image.heifsave_buffer(Q=quality, compression="av1", effort=effort, keep=0))


def matching_quality(image: pyvips.Image, target: int) -> int:
    """The AVIF quality whose size is closest to `target` bytes (bisection, effort 2)."""
    low, high, best = 1, 100, 50
    while low <= high:
        quality = (low + high) // 2
        size = len(avif(image, quality, 2))
        if abs(size - target) < abs(len(avif(image, best, 2)) - target):
            best = quality
        if abs(size - target) <= 0.05 * target:
            return quality
        if size < target:
            low = quality + 1
        else:
            high = quality - 1
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=12, help="photos of the corpus to use")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    pyvips.concurrency_set(1)
    photos = sorted(p for p in args.corpus.glob("*.jpg"))[: args.files]
    print(f"{len(photos)} photos of {args.corpus}; WebP q80 effort 4; AVIF at the same size")
    print("| size | effort | AVIF ms | WebP ms | AVIF / WebP | AVIF bytes / WebP bytes |")
    print("|---|---|---|---|---|---|")
    for width, height in SIZES:
        webp_ms: list[float] = []
        avif_ms: dict[int, list[float]] = {effort: [] for effort in EFFORTS}
        sizes: dict[int, list[float]] = {effort: [] for effort in EFFORTS}
        for path in photos:
            image = pyvips.Image.thumbnail(str(path), width, height=height, size="down")
            image = image.copy_memory()  # the resize is not part of the encode's time
            elapsed, target = cpu_ms(lambda image=image: bytes(image.webpsave_buffer(**WEBP)))
            webp_ms.append(elapsed)
            quality = matching_quality(image, target)
            for effort in EFFORTS:
                elapsed, size = cpu_ms(lambda e=effort, i=image, q=quality: avif(i, q, e))
                avif_ms[effort].append(elapsed)
                sizes[effort].append(size / target)
        webp_total = sum(webp_ms)
        for effort in EFFORTS:
            ratio = sum(avif_ms[effort]) / webp_total
            print(
                f"| {width}×{height} | {effort} | {statistics.mean(avif_ms[effort]):.1f} | "
                f"{statistics.mean(webp_ms):.1f} | {ratio:.2f} | "
                f"{statistics.mean(sizes[effort]):.2f} |"
            )


if __name__ == "__main__":
    main()
