"""The `focal` console script: the CLI of focal.cli, or which extra to install for it."""

from __future__ import annotations

import sys

from focal.extras import MissingExtra, missing_extra


def main() -> None:
    try:
        from focal.cli import app
    except ModuleNotFoundError as error:
        problem = missing_extra(error, "the focal command")
        if problem is None:
            raise
        sys.exit(f"error: {problem}")
    try:
        app()
    except MissingExtra as error:  # a command that needs faces, s3 or postgres
        sys.exit(f"error: {error}")
