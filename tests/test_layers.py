"""The layers of src/focal import only downwards: a module never imports one of a higher layer.

Each entry is one layer, lowest first; a name is a subpackage or a module of `focal`.
Imports within one layer are allowed; `import focal` itself (the version) is allowed anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import focal

LAYERS = [
    {"errors", "signing", "header_values", "request_context", "memory", "extras", "vips", "web"},
    {"json_input", "options", "storage", "logs"},
    {"pipeline", "catalog"},
    {"faces", "config"},
    {"sdk"},
    {"sources"},
    {"service", "stream", "calls"},
    {"server", "cli"},
    {"command"},
]
PACKAGE = Path(focal.__file__).parent


def layer_of(name: str) -> int:
    matches = [index for index, names in enumerate(LAYERS) if name in names]
    assert matches, f"focal.{name} is in no layer: add it to LAYERS"
    return matches[0]


def imported(tree: ast.AST) -> set[str]:
    """The `focal.<name>` parts this module imports, at any depth of the code."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "focal" and len(parts) > 1:
                names.add(parts[1])
    return names


def test_every_module_imports_only_its_own_layer_or_lower() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative == Path("__init__.py"):
            continue  # the package's lazy door to the SDK
        own = relative.parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text(), str(path))
        for name in imported(tree):
            if layer_of(name) > layer_of(own):
                upward.append(f"{relative} imports focal.{name}")
    assert not upward, "imports that run back up a layer:\n" + "\n".join(upward)


def test_every_part_of_the_package_has_a_layer() -> None:
    for path in PACKAGE.iterdir():
        if path.name.startswith(("_", ".")) or path.suffix not in (".py", ""):
            continue
        if path.is_dir() and not (path / "__init__.py").exists():
            continue
        layer_of(path.name.removesuffix(".py"))
