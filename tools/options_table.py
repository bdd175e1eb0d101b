"""Write the README's options table from the option declarations (focal.options.reference).

    python tools/options_table.py          # rewrite README.md between its markers
    python tools/options_table.py --check  # exit 1 if README.md is not up to date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from focal.options.reference import replace_in

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; change nothing")
    parser.add_argument("readme", nargs="?", type=Path, default=README)
    arguments = parser.parse_args()
    current = arguments.readme.read_text(encoding="utf-8")
    written = replace_in(current)
    if written == current:
        return 0
    if arguments.check:
        print(f"{arguments.readme} is out of date: run python tools/options_table.py")
        return 1
    arguments.readme.write_text(written, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
