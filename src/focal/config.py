"""Settings: embedded defaults, overridden by a TOML file and then by FOCAL_* variables.

Everything that differs between a laptop and a fleet is configuration, never code.
`FOCAL_CONFIG` names an optional TOML file whose keys are the field names below;
`FOCAL_<FIELD>` (upper case) overrides one field. Lists are comma-separated.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    # Where things live.
    data_dir: Path = Path("data")
    origin_dir: Path | None = None  # None: <data_dir>/origin

    # HTTP server.
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    access_log: bool = False  # one line per request; off by default, the load balancer logs
    log_format: str = "text"  # text (readable) | json (one JSON object per line)
    log_level: str = "info"  # debug | info | warning | error: the least severe line logged

    # Source limits, checked before any pixel is decoded.
    max_source_bytes: int = 100 * 1024 * 1024
    max_pixels: int = 100_000_000
    max_side: int = 12_000
    # What one transformation may cost. The result's pixels, all frames summed, are checked
    # from its planned size before any work (GIF results, far costlier to write per pixel,
    # have a lower budget); a transformation still running after transform_timeout seconds
    # is stopped inside libvips and answered 422 (0: no limit).
    max_output_pixels: int = 50_000_000
    max_gif_output_pixels: int = 8_000_000
    transform_timeout: float = 30.0

    # Remote fetching: off unless an origin is allowed.
    allowed_origins: tuple[str, ...] = ()
    allow_private_networks: bool = False
    fetch_timeout: float = 10.0
    max_redirects: int = 5
    via_marker: str = "focal"
    # How long a remote original's fingerprint is reused without fetching it again, when its
    # origin sends no Cache-Control max-age (which wins when present). 0: fetch every time.
    remote_freshness_seconds: float = 300.0

    # Delivery.
    cache_control: str = "public, max-age=3600"
    # GET /originals/<path>: the origin folder's files byte for byte (hidden ones never), the
    # target of onerror=redirect. false: the route is off (404) and the folder only serves
    # transformations.
    serve_originals: bool = True
    concurrency: int = 0  # image jobs at once; 0: one per core
    queue_size: int = 64  # waiting jobs beyond that get 503 + Retry-After
    # Encoded variants kept on disk under <data_dir>/cache, least recently used dropped first;
    # a repeat costs a file read instead of a transformation. 0: no result cache.
    result_cache_bytes: int = 1024 * 1024 * 1024
    # A fleet's shared results, behind each server's own cache: a blob store URL as for
    # storage_url (file:///path or s3://bucket/prefix); empty: none. Bound it with the
    # bucket's expiry rule.
    shared_results_url: str = ""

    # Metering: unique transformations per rolling 30 days. Past a quota (0: none), a new
    # transformation gets 429 while variants already made are still served. The price is
    # what `/usage` and `focal usage` multiply by.
    transformation_quota: int = 0
    price_per_1000_transformations: float = 0.50
    usage_flush_seconds: float = 1.0  # how often counted deliveries reach the catalog

    # The Images API (POST /transform, /info): bearer tokens allowed to call it; none: it is
    # off. Each input image of a request may be at most max_input_bytes.
    api_tokens: tuple[str, ...] = ()
    max_input_bytes: int = 20 * 1024 * 1024

    # Hosted images.
    hosted_max_bytes: int = 10 * 1024 * 1024
    flexible_variants: bool = False  # any option string in place of a variant name
    browser_ttl: int = 172_800  # seconds a browser may keep a hosted variant (2 days)

    # Catalog: a SQLAlchemy URL; empty means SQLite at <data_dir>/focal.db.
    catalog_url: str = ""
    # Blobs (originals): empty means files under <data_dir>/blobs; file:///path or s3://bucket/prefix.
    storage_url: str = ""

    # Face detection.
    detect_max_side: int = 1024
    detector_workers: int = 1
    detector_threads: int = 2  # inference threads per worker
    detector_timeout: float = 10.0
    detector_max_rss_mib: int = 200  # a worker above this is replaced after its task
    detector_warm_start: bool = True  # start the workers with the server, not on first use
    face_cache_size: int = 4096  # originals whose boxes are kept in memory

    @property
    def origin_path(self) -> Path:
        return self.origin_dir if self.origin_dir is not None else self.data_dir / "origin"

    @property
    def image_concurrency(self) -> int:
        return self.concurrency if self.concurrency > 0 else (os.cpu_count() or 1)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    """Turn a TOML or environment value into the type of the field's default."""
    kind = type(default)
    if name in ("origin_dir",):
        return None if raw in (None, "") else Path(raw)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if kind is tuple:
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if isinstance(default, Path):
        return Path(raw)
    if kind in (int, float, str):
        return kind(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file of FOCAL_CONFIG, then FOCAL_* variables, then overrides."""
    env = os.environ if environ is None else environ
    defaults = Settings()
    values: dict[str, Any] = {}
    config_file = env.get("FOCAL_CONFIG")
    if config_file:
        with open(config_file, "rb") as handle:
            values.update(tomllib.load(handle))
    for spec in fields(Settings):
        key = f"FOCAL_{spec.name.upper()}"
        if key in env:
            values[spec.name] = env[key]
    values.update(overrides)
    known = {spec.name for spec in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    return Settings(
        **{name: _coerce(name, value, getattr(defaults, name)) for name, value in values.items()}
    )
