"""Transformation options: parse, validate, normalize, print canonically. Pure: no I/O."""

from focal.options.geometry_values import Gravity, GravityMode, Trim, TrimBorder
from focal.options.model import FIT_DOCS, FITS, FORMATS, SPECS, Fit, Options, OptionSpec
from focal.options.parse import (
    canonical,
    canonical_items,
    options_from_mapping,
    parse_options,
)
from focal.options.values import AUTO, Color

__all__ = [
    "AUTO",
    "FITS",
    "FIT_DOCS",
    "FORMATS",
    "SPECS",
    "Color",
    "Fit",
    "Gravity",
    "GravityMode",
    "OptionSpec",
    "Options",
    "Trim",
    "TrimBorder",
    "canonical",
    "canonical_items",
    "options_from_mapping",
    "parse_options",
]
