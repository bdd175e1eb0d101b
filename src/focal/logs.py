"""Logging for the server, set up in one place: readable text by default, JSON lines on demand.

Every line carries the id of the request it was logged for (`-` outside a request), read
from `focal.request_context` by a filter on the handler, so lines from any module, uvicorn's
included, get it without passing it around. Fields given as `extra=` (the access log's) are
keys of a JSON line; in text they are already part of the message.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from focal.request_context import current_request_id

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# The attributes every LogRecord has: the rest came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's copy of its message with terminal colours
    "taskName",
}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the request being handled, or '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def checked_format(log_format: str) -> str:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"FOCAL_LOG_FORMAT must be text or json, not {log_format!r}")
    return log_format


def checked_level(log_level: str) -> str:
    if log_level.lower() not in LOG_LEVELS:
        raise ValueError(
            f"FOCAL_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}"
        )
    return log_level.upper()


def logging_config(log_format: str = "text", log_level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` schema: one stderr handler on the root logger, which
    uvicorn's loggers propagate to. A dict, so that uvicorn can apply it in each worker
    process it starts (its `log_config`)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if checked_format(log_format) == "json"
        else {"format": TEXT_FORMAT}
    )
    # Through the root handler, at the root's level (uvicorn may leave its own set).
    uvicorn_logger = {"handlers": [], "propagate": True, "level": "NOTSET"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"focal": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "focal",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": checked_level(log_level)},
        "loggers": {
            "uvicorn": uvicorn_logger,
            "uvicorn.error": uvicorn_logger,
            # Focal writes its own access log (server/access_log.py); uvicorn's stays off.
            "uvicorn.access": {"handlers": [], "propagate": False},
            # libvips' progress notes ("VIPS: thumbnailing ...") arrive at info: only debug
            # wants them.
            "pyvips": {"level": "NOTSET" if checked_level(log_level) == "DEBUG" else "WARNING"},
        },
    }


def configure_logging(log_format: str = "text", log_level: str = "info") -> None:
    logging.config.dictConfig(logging_config(log_format, log_level))
