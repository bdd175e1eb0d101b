"""Hypothesis strategies for option strings: valid values of every option, and nasty ones.

Shared by the option property tests and the fuzz suite.
"""

from __future__ import annotations

from hypothesis import strategies as st

from focal.options import FITS, FORMATS, SPECS
from focal.options.geometry_values import TRIM_KEYS

NAMES = sorted({name for spec in SPECS for name in (spec.name, *spec.aliases)} | set(TRIM_KEYS))

# Values that are valid for some option, so that soups often parse and reach deep code.
GOOD_VALUES = {
    "width": ["1", "400", "12000", "auto", "250.0"],
    "height": ["1", "300", "12000"],
    "dpr": ["0.5", "1", "2", "3"],
    "fit": list(FITS),
    "gravity": ["auto", "face", "left", "right", "top", "bottom", "center", "0.3x0.7", "0x1"],
    "zoom": ["0", "0.25", "1"],
    "quality": ["1", "50", "100", "high", "medium-high", "medium-low", "low"],
    "slow-connection-quality": ["20", "low"],
    "format": list(FORMATS) + ["jpg"],
    "compression": ["fast"],
    "anim": ["true", "false", "1", "0"],
    "metadata": ["keep", "copyright", "none"],
    "background": ["red", "#ff000080", "#abc", "rgb(1,2,3)", "rgba(1,2,3,0.5)", "transparent"],
    "rotate": ["90", "180", "270", "-90", "0"],
    "flip": ["h", "v", "hv", "vh"],
    "blur": ["0", "2.5", "250"],
    "sharpen": ["0", "1", "10"],
    "brightness": ["0", "0.5", "1.5"],
    "contrast": ["0.5", "2"],
    "gamma": ["0", "0.5", "2.2"],
    "saturation": ["0", "1.7"],
    "trim": ["border", "10;20;30;40", "0.1;0;0.2;0", "0;0;0;0"],
    "onerror": ["redirect"],
}
ALIASES = {alias: spec.name for spec in SPECS for alias in spec.aliases}

nasty_values = st.one_of(
    st.sampled_from([v for values in GOOD_VALUES.values() for v in values]),
    st.sampled_from(
        [
            "",
            "-1",
            "1e999",
            "nan",
            "inf",
            "0x0x0",
            "rgba(",
            ")",
            "(((",
            ";;;",
            "1;2;3",
            "a;b;c;d",
            "border",
            "٩٠",
            "²",
            "\x00",
            "𝟗𝟎",
            "%23fff",
            "#",
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@st.composite
def valid_option_strings(draw: st.DrawFn) -> str:
    """A comma-separated set of valid options, each given once, in any order and spelling."""
    chosen = draw(st.lists(st.sampled_from(sorted(GOOD_VALUES)), unique=True, min_size=1))
    parts = []
    for name in chosen:
        spelled = draw(st.sampled_from([name] + [a for a, n in ALIASES.items() if n == name]))
        parts.append(f"{spelled}={draw(st.sampled_from(GOOD_VALUES[name]))}")
    return ",".join(parts)
