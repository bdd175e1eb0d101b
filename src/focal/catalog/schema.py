"""The catalog's tables, as SQLAlchemy Core definitions (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

# Face boxes per original, by content hash: boxes and scores only, nothing that identifies.
face_boxes = Table(
    "face_boxes",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("faces", Text, nullable=False),  # JSON list of {box, score}
    Column("detected_at", Float, nullable=False),
)

# Hosted originals. Times are integer microseconds since the epoch (UTC): exact on every
# backend, so (uploaded, id) works as a pagination key.
images = Table(
    "images",
    metadata,
    Column("id", String(1024), primary_key=True),
    Column("filename", Text),
    Column("metadata_json", Text, nullable=False),  # a JSON object, ≤ 1024 bytes
    Column("require_signed_urls", Boolean, nullable=False),
    Column("uploaded", BigInteger, nullable=False),
    Column("draft", Boolean, nullable=False),  # a direct upload not yet made
    Column("upload_expires", BigInteger),
    Column("format", String(32)),
    Column("width", Integer),
    Column("height", Integer),
    Column("size", BigInteger),
    Column("content_hash", String(128)),
    # Where the original's bytes are (a draft: where its upload is writing them). Stored, not
    # derived, so images of an earlier key layout stay where they are.
    Column("blob_key", Text),
    # The process whose upload holds a draft (see focal.storage.owner); None for a direct
    # upload's draft, which waits for its one-time URL until it expires.
    Column("upload_owner", Text),
    Index("images_by_upload", "uploaded", "id"),
)

# Named delivery variants: each one's options as the URL form's canonical option string
# (checked by focal.options before they are stored), and its browser TTL (None: the
# server's FOCAL_BROWSER_TTL).
variants = Table(
    "variant_options",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("options", Text, nullable=False),
    Column("browser_ttl", Integer),
    Column("never_require_signed_urls", Boolean, nullable=False),
)

# Settings of the hosted API changed through PATCH /images/v1/config, one row per name; a
# value is JSON. A name without a row has the server's default (focal.config).
hosted_config = Table(
    "hosted_config",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Keys for signed delivery URLs; the newest two are kept so rotation breaks no live URL.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created", BigInteger, nullable=False),
)

# Bearer tokens of the management API, by the SHA-256 of their secret only.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# Metering: per transformation key (sha256 of source and canonical options), the start of
# its current 30-day window.
metered_transformations = Table(
    "metered_transformations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("counted_at", BigInteger, nullable=False),
    Index("metered_by_time", "counted_at"),
)

# Additive counters per UTC day (days since 1970-01-01) and metric.
usage_daily = Table(
    "usage_daily",
    metadata,
    Column("day", Integer, primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("amount", BigInteger, nullable=False),
)

# Live inputs (focal.stream): where a broadcaster pushes, by stream key. Times are catalog
# microseconds; `allowed_origins` and `meta` are JSON. The key is shown back by the API (as
# the product does), so it is kept as it is, not hashed.
live_inputs = Table(
    "live_inputs",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("stream_key", String(64), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("modified", BigInteger, nullable=False),
    Column("meta_json", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("recording_mode", String(16), nullable=False),  # automatic | off
    Column("timeout_seconds", Integer, nullable=False),
    Column("require_signed_urls", Boolean, nullable=False),
    Column("allowed_origins", Text, nullable=False),
    Column("delete_after_days", Integer),
    Column("state", String(16), nullable=False),  # connected | disconnected | refused
    Column("reason", Text),  # why the last publication was refused or ended
    Column("state_at", BigInteger, nullable=False),
)

# The recordings of live inputs: one per broadcast, `live-inprogress` then `ready`.
stream_videos = Table(
    "stream_videos",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("live_input", String(32), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("modified", BigInteger, nullable=False),
    Column("state", String(24), nullable=False),
    Column("duration", Float, nullable=False),  # seconds recorded so far
    Column("require_signed_urls", Boolean, nullable=False),
    Column("ready_at", BigInteger),
    Index("stream_videos_by_input", "live_input", "created"),
)

# The segments of a recording, keyframe-aligned, by their start in seconds from the start of
# the broadcast; the bytes are in the blob store at `blob_key`.
stream_segments = Table(
    "stream_segments",
    metadata,
    Column("video", String(32), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("start", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("blob_key", Text, nullable=False),
)

# Calls: the applications of the SFU, each with a secret kept as its SHA-256 only.
calls_apps = Table(
    "calls_apps",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
)

# Calls: bytes sent to clients (RTP, RTCP, data) per UTC day and app; the total per day is
# also the usage_daily metric calls_egress_bytes.
calls_egress_daily = Table(
    "calls_egress_daily",
    metadata,
    Column("day", Integer, primary_key=True),
    Column("app_id", String(32), primary_key=True),
    Column("bytes", BigInteger, nullable=False),
)
