"""Logging set-up: text or JSON lines on stderr, each with its request id, uvicorn's too."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from focal.logs import configure_logging, logging_config
from focal.request_context import handling

TOUCHED = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "pyvips")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide loggers: put them back after the test."""
    saved = {
        name: (logging.getLogger(name), logging.getLogger(name).handlers[:]) for name in TOUCHED
    }
    states = {
        name: (logger.level, logger.propagate, logger.disabled)
        for name, (logger, _) in saved.items()
    }
    yield
    for name, (logger, handlers) in saved.items():
        logger.handlers = handlers
        logger.level, logger.propagate, logger.disabled = states[name]


def test_json_lines_carry_the_request_id_extras_and_the_traceback(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "info")
    log = logging.getLogger("focal.test")
    log.info("outside")
    with handling("req-1"):
        log.warning("inside %s", "a request", extra={"cache": "hit", "bytes": 12})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed")
    logging.getLogger("uvicorn.error").info("uvicorn speaking")
    log.debug("below the level")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == [
        "outside",
        "inside a request",
        "failed",
        "uvicorn speaking",
    ]
    outside, inside, failed, uvicorn_line = lines
    assert outside["request_id"] == "-" and outside["level"] == "info"
    assert outside["logger"] == "focal.test" and outside["time"].endswith("+00:00")
    assert inside["request_id"] == "req-1" and inside["level"] == "warning"
    assert inside["cache"] == "hit" and inside["bytes"] == 12
    assert failed["request_id"] == "req-1" and failed["level"] == "error"
    assert "RuntimeError: boom" in failed["traceback"]
    assert "traceback" not in inside
    assert uvicorn_line["logger"] == "uvicorn.error" and uvicorn_line["request_id"] == "-"


def test_text_lines_are_readable_and_carry_the_request_id(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging()
    with handling("req-2"):
        logging.getLogger("focal.test").info("hello %d", 1)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" INFO focal.test [req-2] hello 1")


def test_uvicorns_access_log_stays_off(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    logging.getLogger("uvicorn.access").info("GET / 200")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("log_format", "log_level", "named"),
    [("xml", "info", "FOCAL_LOG_FORMAT"), ("json", "loud", "FOCAL_LOG_LEVEL")],
)
def test_a_bad_format_or_level_names_the_setting(
    log_format: str, log_level: str, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        logging_config(log_format, log_level)


def test_libvips_progress_notes_are_left_to_debug(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("text", "info")
    logging.getLogger("pyvips").info("VIPS: thumbnailing 100 bytes of data")
    logging.getLogger("pyvips").warning("VIPS: something worth knowing")
    configure_logging("text", "debug")
    logging.getLogger("pyvips").info("VIPS: now wanted")
    err = capsys.readouterr().err
    assert "thumbnailing" not in err
    assert "something worth knowing" in err and "now wanted" in err
