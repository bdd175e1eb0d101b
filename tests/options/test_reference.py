"""The option reference is written from the declarations, and the README carries it as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from focal.options import FIT_DOCS, SPECS, Fit
from focal.options.reference import BEGIN, END, markdown, markdown_table, replace_in

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_the_readme_options_table_is_the_one_the_declarations_give() -> None:
    readme = README.read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme
    assert replace_in(readme) == readme, "run python tools/options_table.py"


def test_every_option_has_a_row_with_its_aliases_values_and_meaning() -> None:
    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(SPECS)
    for spec, row in zip(SPECS, rows, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[0] == f"`{spec.name}`"
        assert cells[1] == ", ".join(f"`{alias}`" for alias in spec.aliases)
        assert cells[2] == spec.value.describe(lambda text: f"`{text}`")
        assert cells[3]  # a default, or a dash
        assert cells[4] == spec.doc and spec.doc


def test_every_fit_is_described() -> None:
    assert set(FIT_DOCS) == set(Fit)
    for fit in Fit:
        assert f"`{fit.value}` {FIT_DOCS[fit]}" in markdown()


def test_a_changed_declaration_shows_in_the_check(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# Focal\n\n{BEGIN}\n| an old table |\n{END}\n", encoding="utf-8")
    tool = [sys.executable, str(ROOT / "tools" / "options_table.py")]
    check = subprocess.run([*tool, "--check", str(stale)], capture_output=True, text=True)
    assert check.returncode == 1 and "out of date" in check.stdout
    subprocess.run([*tool, str(stale)], check=True)
    assert subprocess.run([*tool, "--check", str(stale)]).returncode == 0
    assert markdown() in stale.read_text(encoding="utf-8")


def test_a_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        replace_in("# no table here\n")
