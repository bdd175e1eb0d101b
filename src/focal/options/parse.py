"""Option strings and mappings in, one `Options` value out; and its canonical form back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from focal.errors import OptionError
from focal.options.geometry_values import TRIM_KEYS, build_trim
from focal.options.model import DEFAULTS, SPECS, Options, OptionSpec
from focal.options.values import python_to_text

_BY_KEY: dict[str, OptionSpec] = {}
for _spec in SPECS:
    for _key in (_spec.name, *_spec.aliases):
        _BY_KEY[_key] = _spec
_TRIM_SPEC = _BY_KEY["trim"]
MAX_OPTIONS_LENGTH = 4096


def _split(text: str) -> Iterator[str]:
    """Split on commas that are not inside parentheses, so rgba(0,0,0,0.5) stays whole."""
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            yield text[start:index]
            start = index + 1
    yield text[start:]


def _known_options() -> str:
    return ", ".join(spec.name for spec in SPECS) + ", preset (a server's named option string)"


def _pairs(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_OPTIONS_LENGTH:
        raise OptionError(f"the options are longer than {MAX_OPTIONS_LENGTH} characters")
    pairs = []
    for part in _split(text):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key:
            raise OptionError(
                f"{part!r} is not an option: write name=value, e.g. width=400 "
                "(options are separated by commas)"
            )
        if not value:
            raise OptionError(f"option {key!r} has no value: write {key}=value")
        pairs.append((key, value))
    return pairs


def options_from_pairs(pairs: list[tuple[str, str]]) -> Options:
    """Validate key=value pairs (names or aliases) into Options."""
    values: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    trim_parts: dict[str, str] = {}
    for key, text in pairs:
        if key in TRIM_KEYS or key == "trim":
            if key in trim_parts:
                raise OptionError(f"option {key!r} is given twice; give it once")
            trim_parts[key] = text
            continue
        spec = _BY_KEY.get(key)
        if spec is None:
            raise OptionError(f"unknown option {key!r}; known options: {_known_options()}")
        if spec.attribute in given_as:
            raise OptionError(
                f"option {spec.name!r} is given twice (as {given_as[spec.attribute]!r} "
                f"and {key!r}); give it once"
            )
        given_as[spec.attribute] = key
        values[spec.attribute] = spec.value.parse(key, text)
    if trim_parts:
        values["trim"] = build_trim(trim_parts)
    if values.get("face_blur") and values.get("face_pixelate"):
        raise OptionError("give face-blur or face-pixelate, not both: each hides the faces alone")
    return normalize(Options(**values))


PRESET_KEY = "preset"


def _attribute(key: str) -> str:
    """What a key sets: its option's attribute (trim's sub-keys all set trim)."""
    if key in TRIM_KEYS:
        return "trim"
    spec = _BY_KEY.get(key)
    return spec.attribute if spec is not None else key


Pairs = list[tuple[str, str]]


def _expand_preset(pairs: Pairs, presets: Mapping[str, str]) -> Pairs:
    """`preset=<name>` replaced by the preset's options; other options may join it, but not
    set what it sets. Presets are given by the caller (the server's FOCAL_PRESETS)."""
    named = [value for key, value in pairs if key == PRESET_KEY]
    if not named:
        return pairs
    if len(named) > 1:
        raise OptionError("option 'preset' is given twice; give one preset")
    name = named[0]
    if name not in presets:
        known = ", ".join(sorted(presets)) or "none are defined on this server"
        raise OptionError(f"unknown preset {name!r}; known presets: {known}")
    expanded = _pairs(presets[name])
    own = {_attribute(key) for key, _ in expanded}
    rest = [(key, value) for key, value in pairs if key != PRESET_KEY]
    for key, _ in rest:
        if _attribute(key) in own:
            raise OptionError(
                f"option {key!r} is set by preset {name!r} too; give it once "
                "(drop it here, or define a preset with it)"
            )
    return expanded + rest


def parse_options(text: str, presets: Mapping[str, str] | None = None) -> Options:
    """Parse the URL form: `width=400,height=300,fit=cover,gravity=face`.

    `preset=<name>` stands for the options `presets` gives that name (none: no presets).
    """
    pairs = _expand_preset(_pairs(text), presets or {})
    if not pairs:
        raise OptionError("no options given: write at least one, e.g. width=400")
    return options_from_pairs(pairs)


def _mapping_pairs(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if key == "trim" and isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            if sub_key == "border" and isinstance(sub_value, Mapping):
                yield "trim", "border"
                for border_key, border_value in sub_value.items():
                    yield f"trim.border.{border_key}", python_to_text(border_value)
            elif sub_key == "border":
                yield "trim.border", python_to_text(sub_value)
            else:
                yield f"trim.{sub_key}", python_to_text(sub_value)
        return
    if key in ("gravity", "g") and isinstance(value, Mapping):
        yield key, f"{python_to_text(value.get('x', 0.5))}x{python_to_text(value.get('y', 0.5))}"
        return
    if key == "trim" and isinstance(value, list | tuple):
        yield key, ";".join(python_to_text(side) for side in value)
        return
    yield key, python_to_text(value)


def options_from_mapping(mapping: Mapping[str, Any]) -> Options:
    """Parse the code form: `{"width": 400, "gravity": {"x": 0.5, "y": 0.3}, "trim": {...}}`.

    Keys may use dashes or underscores; values go through the same validation as URLs.
    """
    pairs: list[tuple[str, str]] = []
    for raw_key, value in mapping.items():
        key = str(raw_key).strip().lower().replace("_", "-")
        pairs.extend(_mapping_pairs(key, value))
    return options_from_pairs(pairs)


def normalize(options: Options) -> Options:
    """Drop what has no effect, so that equivalent option sets compare equal."""
    changes: dict[str, Any] = {}
    if not options.gravity.uses_faces and options.zoom:
        changes["zoom"] = 0.0
    if options.gamma == 0:
        changes["gamma"] = 1.0
    # dpr scales width, height and trim's pixel lengths; with none of them it does nothing.
    scaled = (options.width, options.height, options.trim)
    if all(value is None for value in scaled) and options.dpr != 1:
        changes["dpr"] = 1.0
    return dataclasses.replace(options, **changes) if changes else options


def canonical_items(options: Options) -> list[tuple[str, str]]:
    """Non-default options as (name, value) pairs, sorted by name."""
    items: list[tuple[str, str]] = []
    for spec in SPECS:
        value = getattr(options, spec.attribute)
        if value == getattr(DEFAULTS, spec.attribute):
            continue
        if spec is _TRIM_SPEC:
            items.extend(value.items())
        else:
            items.append((spec.name, spec.value.format(value)))
    return sorted(items)


def canonical(options: Options) -> str:
    """The identity of a transformation: two spellings of one transformation give one string."""
    return ",".join(f"{key}={value}" for key, value in canonical_items(options))
