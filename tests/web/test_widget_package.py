"""The npm package folder `widget/`: the very module Focal serves, and types that match it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from focal.server.widget_routes import WIDGET_SOURCE

PACKAGE = Path(__file__).resolve().parents[2] / "widget"


def manifest() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((PACKAGE / "package.json").read_text())
    return loaded


def test_the_package_ships_the_module_focal_serves() -> None:
    package = manifest()
    assert package["name"] == "@focal/upload-widget" and package["type"] == "module"
    assert package["exports"] == {
        ".": {
            "types": "./index.d.ts",
            "import": "./focal-upload.js",
            "default": "./focal-upload.js",
        },
        "./package.json": "./package.json",
    }
    for name in package["files"]:  # type: ignore[attr-defined]
        assert (PACKAGE / name).is_file(), name
    assert (PACKAGE / "focal-upload.js").read_bytes() == WIDGET_SOURCE.read_bytes()
    source = WIDGET_SOURCE.read_text()
    assert f'const VERSION = "{package["version"]}";' in source


def test_the_types_name_every_attribute_and_event_of_the_element() -> None:
    source = WIDGET_SOURCE.read_text()
    types = (PACKAGE / "index.d.ts").read_text()
    read = set(re.findall(r'(?:getAttribute|hasAttribute|#number)\("([a-z-]+)"\)', source))
    assert read >= {"authorize-url", "accept", "max-size", "max-files", "multiple", "downscale"}
    declared = set(
        re.findall(r'^  "?([a-z-]+)"?\??: ', types.split("FocalUploadAttributes")[1], re.M)
    )
    assert read <= declared, read - declared
    emitted = set(re.findall(r'#emit\("([a-z-]+)"', source))
    assert emitted == {"focal-upload-success", "focal-upload-error", "focal-upload-progress"}
    assert all(f'"{name}": CustomEvent<' in types for name in emitted)
