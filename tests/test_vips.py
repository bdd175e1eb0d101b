"""libvips as Focal's processes use it: its info chatter does not reach Python."""

from __future__ import annotations

import logging

import pytest
import pyvips

import focal.vips  # noqa: F401  (configures libvips on import)


def test_libvips_info_lines_do_not_reach_python_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="pyvips"):
        # A save runs a threadpool, which libvips reports at info level.
        pyvips.Image.black(64, 64).jpegsave_buffer()
    assert not [r for r in caplog.records if r.getMessage().startswith("VIPS:")]
