"""Settings: embedded defaults, overridden by a TOML file, then FOCAL_* variables, then overrides.

Everything that differs between a laptop and a fleet is configuration, never code.
`FOCAL_CONFIG` names an optional TOML file whose keys are the field names below;
`FOCAL_<FIELD>` (upper case) overrides one field. Lists are comma-separated, except lists
of option strings (which hold commas themselves): those are separated by ';'.

Every value is checked against its field's type and range; a wrong one is refused with a
message naming where it came from (FOCAL_PORT, a key of the file, an override) and what is
allowed. A new setting is one annotated line in `Settings` (with a comment), and one
commented line in the example focal.toml at the repository root.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import annotated_types
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from focal.errors import OptionError
from focal.options import parse_options
from focal.pipeline.source import Limits

log = logging.getLogger(__name__)

CONFIG_VARIABLE = "FOCAL_CONFIG"
ENV_PREFIX = "FOCAL_"
# FOCAL_* variables that are not settings and so no misspelling.
NOT_SETTINGS = frozenset({CONFIG_VARIABLE, "FOCAL_FUZZ_EXAMPLES"})


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list | tuple):
        return tuple(str(item).strip() for item in value if str(item).strip())
    return value


# An entry of a ';'-separated list starts with a name and '='; trim=10;0;10;0's ';' is
# followed by a number, so it stays inside its entry.
_ENTRY_START = re.compile(r";(?=\s*(?:[A-Za-z][\w.-]*\s*=|$))")


def _split_entries(value: Any) -> Any:
    if isinstance(value, str):
        value = _ENTRY_START.split(value)
    if isinstance(value, list | tuple):
        return tuple(str(item).strip() for item in value if str(item).strip())
    return value


def _preset_table(value: Any) -> Any:
    """`thumb=w=200,h=200;hero=w=1600` (the environment) or a TOML table, as a mapping."""
    if isinstance(value, str):
        entries = (entry.partition("=") for entry in _split_entries(value))
        return {name.strip(): options.strip() for name, _, options in entries}
    return value


def _checked_presets(presets: dict[str, str]) -> dict[str, str]:
    for name, text in presets.items():
        if not re.fullmatch(r"[A-Za-z][\w.-]*", name):
            raise ValueError(f"preset name {name!r} must be a letter then letters, digits, _.-")
        try:
            parse_options(text)
        except OptionError as error:
            raise ValueError(f"preset {name!r}: {error.message}") from None
    return presets


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


# The kinds of value a setting takes; each carries its range, which the messages quote.
Port = Annotated[int, Field(ge=1, le=65535)]
AtLeastOne = Annotated[int, Field(ge=1)]
ZeroOrMore = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]
SecondsOrZero = Annotated[float, Field(ge=0)]  # 0 has the meaning its field's comment says
Amount = Annotated[float, Field(ge=0)]
Text = Annotated[str, Field(min_length=1)]
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_commas)]
OptionalPath = Annotated[Path | None, BeforeValidator(_empty_is_none)]
EntryList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_entries)]
PresetTable = Annotated[
    dict[str, str], NoDecode, BeforeValidator(_preset_table), AfterValidator(_checked_presets)
]

# The pipeline's own defaults (what the SDK uses) are the server's too.
_LIMITS = Limits()


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container sets it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """All of Focal's settings, validated and immutable.

    `Settings(...)` takes exactly what it is given (no file, no environment);
    `load_settings()` reads those.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix=ENV_PREFIX, case_sensitive=False
    )

    # Where things live.
    data_dir: Path = Path("data")
    origin_dir: OptionalPath = None  # None: <data_dir>/origin

    # HTTP server.
    host: Text = "127.0.0.1"
    port: Port = 8080
    # Server processes; 0: one per core (one when RTMP ingest or calls run in the server,
    # whose state lives in one process). Image jobs, the queue, face detectors and the result
    # cache's bound below are the server's, shared among its processes.
    workers: ZeroOrMore = 0
    access_log: bool = False  # one line per request; off by default, the load balancer logs
    log_format: Literal["text", "json"] = "text"  # text: readable; json: one object a line
    log_level: Literal["debug", "info", "warning", "error"] = "info"  # the least severe logged

    # Source limits, checked before any pixel is decoded.
    max_source_bytes: AtLeastOne = _LIMITS.max_bytes
    max_pixels: AtLeastOne = _LIMITS.max_pixels
    max_side: AtLeastOne = _LIMITS.max_side
    # What one transformation may cost. The result's pixels, all frames summed, are checked
    # from its planned size before any work (GIF results, far costlier to write per pixel,
    # have a lower budget); a transformation still running after transform_timeout seconds
    # is stopped inside libvips and answered 422 (0: no limit).
    max_output_pixels: AtLeastOne = _LIMITS.max_output_pixels
    max_gif_output_pixels: AtLeastOne = _LIMITS.max_gif_output_pixels
    # format=avif and format=auto write WebP instead when the result has more pixels than
    # this (FOCAL_AVIF_MAX_PIXELS): AVIF encoding is several times slower on large images.
    avif_max_pixels: AtLeastOne = _LIMITS.max_avif_pixels
    transform_timeout: SecondsOrZero = _LIMITS.transform_timeout

    # Remote fetching: off unless an origin is allowed.
    allowed_origins: CommaList = ()
    allow_private_networks: bool = False
    fetch_timeout: Seconds = 10.0
    max_redirects: ZeroOrMore = 5
    via_marker: Text = "focal"
    # How long a remote original's fingerprint is reused without fetching it again, when its
    # origin sends no Cache-Control max-age (which wins when present). 0: fetch every time.
    remote_freshness_seconds: SecondsOrZero = 300.0

    # Delivery.
    cache_control: str = "public, max-age=3600"
    # GET /originals/<path>: the origin folder's files byte for byte (hidden ones never), the
    # target of onerror=redirect. false: the route is off (404) and the folder only serves
    # transformations.
    serve_originals: bool = True
    # Image jobs at once; 0: two per core of this machine. One image keeps a core busy only
    # part of the time (its Python steps wait for the interpreter, JPEG decoding and encoding
    # are serial), so a second image per core fills the gaps. Shared among the server's
    # processes, rounded up.
    concurrency: ZeroOrMore = 0
    # libvips threads per image; 0: one when there are at least as many image jobs as cores
    # (the cores are kept busy by images side by side, and splitting one image across
    # threads only adds hand-offs), else the cores shared among the jobs.
    vips_threads: ZeroOrMore = 0
    queue_size: ZeroOrMore = 64  # waiting jobs beyond that get 503 + Retry-After
    # Encoded variants kept on disk under <data_dir>/cache, least recently used dropped first;
    # a repeat costs a file read instead of a transformation. 0: no result cache.
    result_cache_bytes: ZeroOrMore = 1024 * 1024 * 1024
    # A fleet's shared results, behind each server's own cache: a blob store URL as for
    # storage_url (file:///path or s3://bucket/prefix); empty: none. Bound it with the
    # bucket's expiry rule.
    shared_results_url: str = ""

    # Metering: unique transformations per rolling 30 days. Past a quota (0: none), a new
    # transformation gets 429 while variants already made are still served. The price is
    # what `/usage` and `focal usage` multiply by.
    transformation_quota: ZeroOrMore = 0
    price_per_1000_transformations: Amount = 0.50
    usage_flush_seconds: Seconds = 1.0  # how often counted deliveries reach the catalog

    # The Images API (POST /transform, /info): bearer tokens allowed to call it; none: it is
    # off. Each input image of a request may be at most max_input_bytes.
    api_tokens: CommaList = ()
    max_input_bytes: AtLeastOne = 20 * 1024 * 1024

    # Hosted images.
    hosted_max_bytes: AtLeastOne = 10 * 1024 * 1024
    # Any option string in place of a variant name: the default until PATCH /images/v1/config
    # sets it, which the catalog keeps.
    flexible_variants: bool = False
    browser_ttl: ZeroOrMore = 172_800  # seconds a browser may keep a hosted variant (2 days)
    # Quotas of hosted images, billed as stored and delivered (0: none): past them, an
    # upload or a delivery gets 429 (9422).
    hosted_images_quota: ZeroOrMore = 0  # images stored at once
    hosted_deliveries_quota: ZeroOrMore = 0  # deliveries per calendar month (UTC)
    # Origins whose pages may POST a one-time upload URL (CORS); "*": any page.
    upload_cors_origins: CommaList = ("*",)
    # Origins whose pages may call the token-protected API (CORS); none: no page may.
    api_cors_origins: CommaList = ()

    # Signed /cdn-cgi/image/ URLs. With keys, a request needs ?exp=<unix time>&sig=<hex
    # HMAC-SHA256 of the path and ?exp=...> made with one of them (the first signs, all are
    # accepted: rotation); none: no signature is asked for.
    url_signing_keys: CommaList = ()
    # Option strings served without a signature, compared by canonical form (w=200 allows
    # width=200 too), e.g. "preset=thumb;width=400,format=auto"; ';'-separated in the
    # environment.
    unsigned_options: EntryList = ()
    # Named option strings, used in URLs as preset=<name>: a TOML table
    # (presets = {thumb = "w=200,h=200,fit=cover,gravity=face"}), or in the environment
    # FOCAL_PRESETS="thumb=w=200,h=200,fit=cover;hero=w=1600".
    presets: PresetTable = Field(default_factory=dict)

    # Catalog: a SQLAlchemy URL; empty means SQLite at <data_dir>/focal.db.
    catalog_url: str = ""
    # Blobs (originals): empty means files under <data_dir>/blobs; file:///path or s3://bucket/prefix.
    storage_url: str = ""

    # Face detection.
    detect_max_side: Annotated[int, Field(ge=32)] = 640  # the model's stride is 32
    # Processes, shared among the server's processes (rounded up); two keep both cores of a
    # small machine busy.
    detector_workers: AtLeastOne = 2
    detector_threads: AtLeastOne = 1  # inference threads per worker (1: least CPU per image)
    detector_timeout: Seconds = 10.0
    detector_max_rss_mib: AtLeastOne = 200  # a worker above this is replaced after its task
    detector_warm_start: bool = True  # start the workers with the server, not on first use
    # ONNX Runtime's execution provider: cpu, or cuda where onnxruntime-gpu is installed.
    detector_provider: Literal["cpu", "cuda"] = "cpu"
    # The model's weights: int8 (quantized, about half the CPU per image, the same faces on the
    # labelled photos at detection sizes up to 640), float (the published weights as they are;
    # for a GPU), or auto: int8 where detect_max_side <= 640, float above.
    detector_model: Literal["auto", "int8", "float"] = "auto"
    # A detector service (`focal detector serve`) to use instead of local workers, e.g.
    # http://10.0.0.5:8091; empty: local workers. Down or slower than detector_timeout: centre.
    detector_url: str = ""
    detector_port: Port = 8091  # where `focal detector serve` listens (on FOCAL_HOST)
    face_cache_size: ZeroOrMore = 4096  # originals whose boxes are kept in memory
    # Hosted uploads waiting for their faces to be found in the background; past it, an
    # upload's faces are found on its first gravity=face delivery. 0: never at upload.
    upload_face_queue: ZeroOrMore = 64

    # Live streams (focal.stream): RTMP ingest with `focal serve` when enabled, or alone by
    # `focal stream serve`. Playback and the API are served whenever the stream extra is in.
    stream_enabled: bool = False
    stream_rtmp_host: Text = "127.0.0.1"  # the address the RTMP server listens on
    stream_rtmp_port: Port = 1935
    # The ingest URL shown with each live input; empty: rtmp://<rtmp host>:<rtmp port>/live/.
    stream_rtmp_url: str = ""
    stream_max_inputs: AtLeastOne = 16  # live inputs this server ingests at once
    stream_max_bitrate_kbps: AtLeastOne = 20_000  # a publisher over it is disconnected
    stream_max_segment_bytes: AtLeastOne = 64 * 1024 * 1024  # one GOP's segment at most
    # A segment is cut at the first keyframe once it is this long (GOPs of 2-10 s).
    stream_segment_seconds: Annotated[float, Field(gt=0, le=10)] = 2.0
    # Calls, the WebRTC SFU (needs focal[calls]): served by `focal serve` when enabled, or
    # alone by `focal calls serve`.
    calls_enabled: bool = False
    # The addresses the SFU's ICE binds and announces (its public IPs, as a real SFU's
    # announced IP); none: every non-loopback address of the host, as aioice gathers them.
    calls_ice_addresses: CommaList = ()
    calls_max_tracks_per_request: AtLeastOne = 64
    calls_track_idle_seconds: Seconds = 30.0  # a pushed track without media so long is closed
    calls_reconnect_seconds: Seconds = 30.0  # a session without connectivity stays usable so long
    calls_price_per_gb: Amount = 0.05  # egress (bytes sent to clients); inbound is free
    calls_free_gb_per_month: ZeroOrMore = 1000

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Construction reads nothing: load_settings() gathers the file and the environment,
        # so that it can say where each value came from.
        return (init_settings,)

    @model_validator(mode="after")
    def _one_process_for_ingest_and_calls(self) -> Settings:
        if self.workers > 1 and (self.stream_enabled or self.calls_enabled):
            running = "RTMP ingest (stream_enabled)" if self.stream_enabled else "calls"
            raise ValueError(
                f"workers={self.workers}: {running} runs in one server process; set workers "
                "to 1 or 0, or run it on its own (`focal stream serve`, `focal calls serve`)"
            )
        return self

    @model_validator(mode="after")
    def _unsigned_options_parse(self) -> Settings:
        for text in self.unsigned_options:
            try:
                parse_options(text, self.presets)
            except OptionError as error:
                raise ValueError(
                    f"unsigned_options (FOCAL_UNSIGNED_OPTIONS): {text!r}: {error.message}"
                ) from None
        return self

    @property
    def origin_path(self) -> Path:
        return self.origin_dir if self.origin_dir is not None else self.data_dir / "origin"

    @property
    def processes(self) -> int:
        """The server processes sharing the image jobs, the queue, the face workers and the
        data folder. `focal serve` resolves workers = 0 (`processes_to_start`) and passes the
        number on to its processes; an app built otherwise with 0 is one process."""
        return max(1, self.workers)

    @property
    def processes_to_start(self) -> int:
        """What `focal serve` starts: FOCAL_WORKERS, or one per core (one with RTMP ingest or
        calls, whose state lives in one process)."""
        if self.workers > 0:
            return self.workers
        if self.stream_enabled or self.calls_enabled:
            return 1
        return machine_cores()

    @property
    def image_concurrency(self) -> int:
        """Image jobs at once in each of the server's processes."""
        total = self.concurrency if self.concurrency > 0 else 2 * machine_cores()
        return _shared(total, self.processes)

    @property
    def image_vips_threads(self) -> int:
        if self.vips_threads > 0:
            return self.vips_threads
        return max(1, machine_cores() // (self.image_concurrency * self.processes))

    @property
    def process_queue_size(self) -> int:
        """Waiting image jobs each of the server's processes holds."""
        return _shared(self.queue_size, self.processes)

    @property
    def process_detector_workers(self) -> int:
        """Face worker processes each of the server's processes starts."""
        return _shared(self.detector_workers, self.processes)

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes`, validated like any other settings."""
        return load_settings(environ={}, **{**self.model_dump(), **changes})


def _shared(total: int, processes: int) -> int:
    """One process's part of `total`, rounded up (each gets at least one of a non-zero total)."""
    return -(-total // processes)


SETTING_NAMES: tuple[str, ...] = tuple(Settings.model_fields)


class ConfigurationError(ValueError):
    """Settings that cannot be used; the message names each wrong value and what is allowed."""


@dataclass(frozen=True)
class Origin:
    """Where one setting's value came from."""

    kind: Literal["default", "file", "environment", "command line"]
    where: str = ""  # the file's path, or the variable's name

    def __str__(self) -> str:
        return f"{self.kind} {self.where}" if self.where else self.kind


@dataclass(frozen=True)
class ResolvedSettings:
    settings: Settings
    origins: dict[str, Origin]


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of FOCAL_* variables, from a given mapping."""

    def __init__(self, environ: Mapping[str, str | None]) -> None:
        self._environ = {key.lower(): value for key, value in environ.items()}
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._environ


def _variable(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def _closest(name: str) -> str:
    match = difflib.get_close_matches(name.lower(), SETTING_NAMES, n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def _read_file(path_text: str) -> dict[str, Any]:
    path = Path(path_text).expanduser()
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"{CONFIG_VARIABLE}={path_text}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path_text} is not valid TOML: {error}") from None
    unknown = [key for key in values if key not in Settings.model_fields]
    if unknown:
        raise ConfigurationError(
            "\n".join(f"{path_text}: unknown setting {key}{_closest(key)}" for key in unknown)
        )
    return values


def _warn_about_unknown_variables(environ: Mapping[str, str | None]) -> None:
    # Refused in a file, only warned about here: the environment is shared with other tools.
    known = {_variable(name) for name in SETTING_NAMES} | NOT_SETTINGS
    for key in sorted(environ):
        if key.upper().startswith(ENV_PREFIX) and key.upper() not in known:
            name = key[len(ENV_PREFIX) :]
            log.warning("%s is not a Focal setting%s; it is ignored", key, _closest(name))


def _label(name: str, origin: Origin, value: Any) -> str:
    if origin.kind == "environment":
        return f"{origin.where}={value}"
    if origin.kind == "file":
        return f"{name} = {value!r} in {origin.where}"
    return f"{name}={value!r} ({origin.kind})"


def _number_range(kind: str, metadata: list[Any]) -> str:
    def bound(kind_of_bound: type[Any], attribute: str) -> Any:
        return next((getattr(m, attribute) for m in metadata if isinstance(m, kind_of_bound)), None)

    low, high = bound(annotated_types.Ge, "ge"), bound(annotated_types.Le, "le")
    above = bound(annotated_types.Gt, "gt")
    if low is not None and high is not None:
        return f"{kind} from {low:g} to {high:g}"
    if above is not None:
        return f"{kind} greater than {above:g}"
    if low is not None:
        return f"{kind}, {low:g} or more"
    return kind


def allowed_values(field: FieldInfo) -> str:
    """What a setting accepts, in words, from its type and range."""
    annotation = field.annotation
    if annotation is bool:
        return "true or false (also 1/0, yes/no, on/off)"
    if annotation is int:
        return _number_range("a whole number", field.metadata)
    if annotation is float:
        return _number_range("a number", field.metadata)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    if get_origin(annotation) is dict:
        return "a table of name = option string (name=options;name2=options in the environment)"
    if get_origin(annotation) is tuple and any(
        getattr(item, "func", None) is _split_entries for item in field.metadata
    ):
        return "a list of option strings (';'-separated in the environment)"
    if get_origin(annotation) is tuple:
        return "a list (comma-separated in the environment)"
    if any(isinstance(item, annotated_types.MinLen) for item in field.metadata):
        return "non-empty text"
    if annotation is str:
        return "text"
    return "a path"


def _explain(error: ValidationError, values: Mapping[str, Any], origins: dict[str, Origin]) -> str:
    lines = []
    for problem in error.errors():
        if not problem["loc"]:  # a check of several settings together: its own message
            lines.append(str(problem.get("ctx", {}).get("error", problem["msg"])))
            continue
        name = str(problem["loc"][0])
        if name not in Settings.model_fields:
            lines.append(f"unknown setting {name}{_closest(name)}")
            continue
        origin = origins.get(name, Origin("default"))
        field = Settings.model_fields[name]
        if problem["type"] == "value_error":  # a check that says what is wrong itself
            lines.append(f"{_label(name, origin, values.get(name))}: {problem['ctx']['error']}")
            continue
        lines.append(
            f"{_label(name, origin, values.get(name))}: {name} must be {allowed_values(field)}"
        )
    return "\n".join(dict.fromkeys(lines))


# Shown by `focal config` as hidden: they let whoever reads them in.
SECRET_SETTINGS = frozenset({"api_tokens", "url_signing_keys"})
URL_SETTINGS = frozenset({"catalog_url", "storage_url", "shared_results_url"})
SECRET_QUERY_PARAMETERS = ("secret_access_key", "session_token", "password")


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{key}=***" if key.lower() in SECRET_QUERY_PARAMETERS else f"{key}={value}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def shown_values(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, with tokens and the passwords in URLs hidden."""
    values = settings.model_dump(mode="json")
    for name in SECRET_SETTINGS:
        values[name] = ["***"] * len(values[name])
    for name in URL_SETTINGS:
        values[name] = _without_credentials(values[name])
    return values


def resolve_settings(
    environ: Mapping[str, str | None] | None = None, **overrides: Any
) -> ResolvedSettings:
    """The settings, and where each came from: defaults, then the TOML file of FOCAL_CONFIG,
    then FOCAL_* variables, then `overrides` (the command line's options)."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items() if v is not None}
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    layers: list[tuple[dict[str, Any], Origin | None]] = []
    config_file = env.get(CONFIG_VARIABLE)
    if config_file:
        layers.append((_read_file(config_file), Origin("file", config_file)))
    _warn_about_unknown_variables(env)
    layers.append((_Environment(env)(), None))
    layers.append((overrides, Origin("command line")))
    for layer, origin in layers:
        for name, value in layer.items():
            values[name] = value
            origins[name] = origin or Origin("environment", _variable(name))
    try:
        settings = Settings(**values)
    except ValidationError as error:
        raise ConfigurationError(_explain(error, values, origins)) from None
    return ResolvedSettings(
        settings, {name: origins.get(name, Origin("default")) for name in SETTING_NAMES}
    )


def load_settings(environ: Mapping[str, str | None] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file of FOCAL_CONFIG, then FOCAL_* variables, then overrides."""
    return resolve_settings(environ, **overrides).settings
