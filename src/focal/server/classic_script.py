"""A classic-script build of an ES module that has no imports: the same code, one file.

A page may load the upload widget with a plain `<script src>` or with `<script
type="module">`; only a script without `export` and `import.meta` runs both ways. The ES
module stays the one source (the npm package ships it as is); this makes the classic build
from it: the module's export line is dropped, `import.meta.url` becomes the URL of the
`<script>` that loaded it, and the whole runs in its own function scope, as a module would.
Anything else a classic script cannot hold (an `import`, a second export) is refused, so the
build never silently differs from its source (a ValueError: the source is at fault).
"""

from __future__ import annotations

import re

_EXPORT_LINE = re.compile(r"^export \{[\w\s,]+\};?[ \t]*$", re.MULTILINE)
_MODULE_SYNTAX = re.compile(r"^\s*(import|export)\b", re.MULTILINE)
_IMPORT_META_URL = "import.meta.url"
# In a classic script the URL of the <script> element running it. A page that loaded this
# build as a module has no `document.currentScript`: then the first script element whose
# address names `script_name`, if any.
_SCRIPT_URL = (
    "((document.currentScript && document.currentScript.src) || "
    '(document.querySelector(\'script[src*="{name}"]\') || {{}}).src || "")'
)


def classic_script(module_source: str, script_name: str) -> str:
    """The classic-script build of `module_source`: one `export { ... };` line, no imports;
    `script_name` is the build's file name, which finds its script element in a module."""
    exports = _EXPORT_LINE.findall(module_source)
    if len(exports) != 1:
        raise ValueError(
            f"a module for a classic build has exactly one `export {{ ... }};` line, "
            f"not {len(exports)}",
        )
    body = _EXPORT_LINE.sub("", module_source)
    leftover = _MODULE_SYNTAX.search(body)
    if leftover:
        line = body[: leftover.start()].count("\n") + 1
        raise ValueError(
            f"line {line} of the module is an {leftover.group(1)}, which a classic script "
            "cannot hold",
        )
    body = body.replace(_IMPORT_META_URL, _SCRIPT_URL.format(name=script_name))
    return f'(() => {{\n"use strict";\n{body.rstrip()}\n}})();\n'
