"""Optional parts of Focal and the extra that installs each: `pip install 'focal[faces]'`.

`pip install focal` is the SDK alone; the server, face detection, S3 storage and PostgreSQL
come with extras, and code that needs one says which when it is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The top-level modules each extra brings, for naming the extra when one is missing.
EXTRA_OF_MODULE = {
    "fastapi": "server",
    "fastapi_offline": "server",
    "starlette": "server",
    "uvicorn": "server",
    "multipart": "server",
    "sqlalchemy": "server",
    "typer": "server",
    "rich": "server",
    "plotext": "server",
    "prometheus_client": "server",
    "pydantic_settings": "server",
    "cachetools": "server",
    "onnxruntime": "faces",
    "numpy": "faces",
    "obstore": "s3",
    "psycopg": "postgres",
    "av": "stream",
    "aiortc": "calls",
}


class MissingExtra(ImportError):
    """A part of Focal is used whose extra is not installed; the message says which."""


def missing_extra(error: ModuleNotFoundError, needed_for: str) -> MissingExtra | None:
    """The MissingExtra to raise for `error`, or None when no extra brings that module."""
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return MissingExtra(
        f"{needed_for} needs {module}, which comes with the {extra!r} extra: "
        f"pip install 'focal[{extra}]'",
        name=module,
    )


def import_extra(module: str, needed_for: str) -> ModuleType:
    """`importlib.import_module(module)`, or a MissingExtra naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise missing_extra(error, needed_for) or error from None
