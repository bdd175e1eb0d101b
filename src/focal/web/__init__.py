"""Focal's own pages and scripts (the upload widget, the dashboard, the players), as files.

Assets only: the server serves them from the installed package (`ASSETS`), so every page
works offline, with no CDN. Vendored third-party files keep their licence beside them.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

ASSETS: Traversable = files(__name__)
