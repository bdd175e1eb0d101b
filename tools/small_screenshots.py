"""Copy the page tests' screenshots into docs/screenshots/ as small PNGs.

    make .venv/.installed-stamp && .venv/bin/python -m pytest tests/web/test_dashboard.py
    .venv/bin/python tools/small_screenshots.py dashboard-image playground usage

Each is scaled to at most 800 pixels wide and saved with a palette: a few tens of KB that
still read well in a README.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyvips

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
MAX_WIDTH = 800


def shrink(name: str) -> Path:
    source = ARTIFACTS / f"{name}.png"
    image = pyvips.Image.new_from_file(str(source))
    if image.width > MAX_WIDTH:
        image = image.resize(MAX_WIDTH / image.width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    image.pngsave(str(target), palette=True, Q=90, effort=10, compression=9)
    return target


def main(names: list[str]) -> None:
    for name in names:
        target = shrink(name)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
