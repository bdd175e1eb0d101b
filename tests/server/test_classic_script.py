"""The classic-script build: the module's code, with only what a classic script cannot hold
rewritten, and a refusal of any module syntax it would not know how to rewrite."""

from __future__ import annotations

import pytest

from focal.server.classic_script import classic_script
from focal.server.widget_routes import CLASSIC_PATH, WIDGET_SOURCE

MODULE = """const SCRIPT_URL = import.meta.url;
class Thing {}
export { Thing };
"""


def test_the_export_goes_and_the_script_url_comes_from_the_script_element() -> None:
    built = classic_script(MODULE, "/thing.js")
    assert built == (
        '(() => {\n"use strict";\n'
        "const SCRIPT_URL = ((document.currentScript && document.currentScript.src) || "
        """(document.querySelector('script[src*="/thing.js"]') || {}).src || "");\n"""
        "class Thing {}\n"
        "})();\n"
    )


def test_the_widget_builds_without_module_syntax() -> None:
    built = classic_script(WIDGET_SOURCE.read_text(), CLASSIC_PATH)
    assert "import.meta" not in built
    assert not [line for line in built.splitlines() if line.startswith(("export", "import"))]
    # Everything but the two rewritten lines is the module's own text.
    source_lines = WIDGET_SOURCE.read_text().splitlines()
    kept = [line for line in source_lines if "import.meta" not in line and line.strip()]
    kept.remove("export { FocalUploadElement, VERSION };")
    assert all(line in built for line in kept)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("class A {}\n", "exactly one `export { ... };` line, not 0"),
        ("export { A };\nexport { B };\n", "exactly one `export { ... };` line, not 2"),
        ('import x from "./x.js";\nexport { x };\n', "line 1 of the module is an import"),
        ("const a = 1;\nexport default a;\nexport { a };\n", "line 2 of the module is an export"),
    ],
)
def test_module_syntax_it_cannot_rewrite_is_refused(source: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        classic_script(source, "/a.js")
    assert problem in str(raised.value)
