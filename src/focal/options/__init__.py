"""Transformation options: parse, validate, normalize, print canonically. Pure: no I/O."""

from focal.options.geometry_values import Gravity, Trim, TrimBorder
from focal.options.model import FITS, FORMATS, SPECS, Options, OptionSpec
from focal.options.parse import (
    canonical,
    canonical_items,
    options_from_mapping,
    parse_options,
)
from focal.options.values import Color

__all__ = [
    "FITS",
    "FORMATS",
    "SPECS",
    "Color",
    "Gravity",
    "OptionSpec",
    "Options",
    "Trim",
    "TrimBorder",
    "canonical",
    "canonical_items",
    "options_from_mapping",
    "parse_options",
]
