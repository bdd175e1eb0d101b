"""The `focal` command: serve, transform and describe files, manage API tokens, show usage."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import plotext
import pyvips
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from focal.catalog import HostedCatalog, UsageStore, catalog_url, open_catalog
from focal.catalog.times import from_micros, now_micros
from focal.config import (
    ConfigurationError,
    ResolvedSettings,
    Settings,
    resolve_settings,
    shown_values,
)
from focal.errors import ErrorKind, FocalError
from focal.faces.detector import FaceDetector
from focal.logs import logging_config
from focal.memory import SERVER_ARENAS, limit_malloc_arenas
from focal.options import Options, parse_options
from focal.pipeline import Limits, probe
from focal.service import ClientHints, Described, transform
from focal.service.calls_usage import calls_report_of
from focal.service.faces import detect_in_process
from focal.service.metering import HostedQuotas, report_range, usage_report
from focal.service.parts import face_detector
from focal.service.transform import limits_from

app = typer.Typer(
    help="Focal: self-hosted image optimization with face-aware cropping.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)
EXTENSIONS = {
    "jpeg": ".jpg",
    "baseline-jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "avif": ".avif",
    "gif": ".gif",
}
IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".avif",
    ".heic",
    ".heif",
    ".tif",
    ".tiff",
    ".svg",
}
# The format an output file's extension names: it chooses the format unless f= is given.
FORMAT_OF_SUFFIX = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".webp": "webp",
    ".avif": "avif",
    ".gif": "gif",
    ".json": "json",
}


@functools.cache
def _detector() -> FaceDetector:
    return face_detector(_settings(), _limits())


def _limits() -> Limits:
    return limits_from(_settings())


def _settings(**command_line: Any) -> Settings:
    return _resolved(**command_line).settings


def _resolved(**command_line: Any) -> ResolvedSettings:
    """The effective settings (options left out are None); wrong ones end the command with
    what is wrong (exit 2)."""
    given = {name: value for name, value in command_line.items() if value is not None}
    try:
        return resolve_settings(**given)
    except ConfigurationError as error:
        errors.print(Text(f"error: {error}"))
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes (0: one per core).")
    ] = None,
) -> None:
    """Run the HTTP server (defaults: 127.0.0.1:8080, data in ./data)."""
    import uvicorn

    settings = _settings(host=host, port=port, workers=workers)
    try:
        # Applied by uvicorn in each of its worker processes: uvicorn's lines and Focal's
        # alike come out in FOCAL_LOG_FORMAT, with request ids.
        log_config = logging_config(settings.log_format, settings.log_level)
    except ValueError as error:
        errors.print(f"error: {error}")
        raise typer.Exit(2) from None
    settings.origin_path.mkdir(parents=True, exist_ok=True)
    # Each process builds its app from the environment: it must know how many share the
    # result cache, the image jobs and /metrics, --workers or the machine's choice included.
    processes = settings.processes_to_start
    os.environ["FOCAL_WORKERS"] = str(processes)
    uvicorn.run(
        "focal.server.app:serving_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=processes,
        log_config=log_config,
        log_level=settings.log_level.lower(),
        access_log=False,  # Focal's own access log replaces uvicorn's (FOCAL_ACCESS_LOG)
    )


stream_app = typer.Typer(help="Live streams: RTMP ingest.", no_args_is_help=True)
app.add_typer(stream_app, name="stream")


@stream_app.command(name="serve")
def stream_serve(
    host: Annotated[str | None, typer.Option(help="Address RTMP listens on.")] = None,
    port: Annotated[int | None, typer.Option(help="RTMP port (default 1935).")] = None,
) -> None:
    """Ingest live streams over RTMP alone; `focal serve` plays them back (same catalog)."""
    import asyncio
    import logging.config

    from focal.stream.standalone import serve_ingest

    settings = _settings(stream_rtmp_host=host, stream_rtmp_port=port)
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    asyncio.run(serve_ingest(settings))


calls_app = typer.Typer(help="Calls, the WebRTC SFU (needs focal[calls]).", no_args_is_help=True)
app.add_typer(calls_app, name="calls")


@calls_app.command(name="serve")
def calls_serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server for calls: the SFU on, in one process (its sessions live in it), and
    no face detector started ahead of use."""
    os.environ["FOCAL_CALLS_ENABLED"] = "true"
    os.environ["FOCAL_WORKERS"] = "1"
    os.environ["FOCAL_DETECTOR_WARM_START"] = "false"
    serve(host=host, port=port, workers=None)


detector_app = typer.Typer(help="The face detector as its own service.", no_args_is_help=True)
app.add_typer(detector_app, name="detector")


@detector_app.command("serve")
def detector_serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run face detection behind HTTP: POST /detect with image bytes, GET /healthz
    (defaults: 127.0.0.1:8091). Servers use it with FOCAL_DETECTOR_URL."""
    import uvicorn

    from focal.server.detector_service import create_detector_app

    settings = _settings(host=host, detector_port=port)
    try:
        log_config = logging_config(settings.log_format, settings.log_level)
    except ValueError as error:
        errors.print(f"error: {error}")
        raise typer.Exit(2) from None
    limit_malloc_arenas(SERVER_ARENAS)
    uvicorn.run(
        create_detector_app(settings),
        host=settings.host,
        port=settings.detector_port,
        log_config=log_config,
        log_level=settings.log_level.lower(),
    )


@app.command(name="transform")
def transform_command(
    source: Annotated[Path, typer.Argument(help="An image, or a folder of images.")],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Output file or folder; a file's extension (.png, .webp…) chooses the format "
            "unless the options give f=.",
        ),
    ],
    options: Annotated[str, typer.Option("--options", help='e.g. "width=400,fit=cover".')],
    accept: Annotated[
        str, typer.Option(help="Formats format=auto may choose, as an Accept header.")
    ] = "image/avif,image/webp",
) -> None:
    """Transform an image, or every image in a folder, with URL-form options."""
    _require_existing(source, "SOURCE")
    try:
        parsed = parse_options(options)
        if not source.is_dir():
            parsed = _format_for_output(parsed, output)
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from None
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        output.mkdir(parents=True, exist_ok=True)
        failed = 0
        with Progress(console=errors) as progress:
            task = progress.add_task("transforming", total=len(files))
            for file in files:
                target = output / file.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    _transform_into(file, target, parsed, accept, keep_name=False)
                except FocalError as error:
                    failed += 1
                    progress.console.print(f"[red]{file}[/red]: {error.message}")
                progress.advance(task)
        console.print(f"{len(files) - failed} transformed, {failed} failed → {output}")
        raise typer.Exit(1 if failed else 0)
    try:
        written = _transform_into(source, output, parsed, accept, keep_name=True)
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from None
    console.print(f"{source} → {written}")


def _require_existing(path: Path, name: str) -> None:
    """A missing path is one line of error (exit 2, as for any bad argument), no traceback."""
    if not path.exists():
        errors.print(
            f"[red]error:[/red] Invalid value for {name}: no such file or folder: {path}",
            soft_wrap=True,  # one line, however long the path
        )
        raise typer.Exit(2)


def _format_for_output(options: Options, output: Path) -> Options:
    """The output file's extension chooses the format when the options give none; an
    extension that names another format than f= is refused, not silently contradicted."""
    named = FORMAT_OF_SUFFIX.get(output.suffix.lower())
    if named is None:
        return options
    if options.format is None:
        return dataclasses.replace(options, format=named)
    given = "jpeg" if options.format == "baseline-jpeg" else options.format
    if given != named:
        raise FocalError(
            ErrorKind.BAD_OPTIONS,
            f"format={options.format} writes {options.format}, but the output {output.name} "
            f"names {named}: drop format= or name the output {output.stem}"
            f"{EXTENSIONS.get(options.format, '.' + options.format)}",
        )
    return options


def _transform_into(
    source: Path, target: Path, options: Options, accept: str, *, keep_name: bool
) -> Path:
    """Write the result; in folder mode the extension follows the output format."""
    data = source.read_bytes()
    lookup = detect_in_process(_detector(), data) if options.needs_faces else None
    result = transform(data, options, ClientHints(accept=accept), _limits(), lookup)
    if isinstance(result, Described):
        target = target if keep_name else target.with_suffix(".json")
        target.write_text(json.dumps(result.body, indent=2) + "\n")
        return target
    if not keep_name:
        target = target.with_suffix(EXTENSIONS[result.format])
    target.write_bytes(result.data)
    return target


@app.command()
def info(
    image: Annotated[
        Path, typer.Argument(help="An image file.", exists=True, dir_okay=False, readable=True)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Format, size and dimensions of an image, read from its header."""
    try:
        facts = probe(image.read_bytes(), _limits())
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from None
    described = {
        "format": facts.format,
        "file_size": facts.file_size,
        "width": facts.width,
        "height": facts.height,
        "frames": facts.pages,
        "has_alpha": facts.has_alpha,
        "orientation": facts.orientation,
    }
    if as_json:
        console.print_json(json.dumps(described))
        return
    table = Table(title=str(image), show_header=False)
    for key, value in described.items():
        table.add_row(key, str(value))
    console.print(table)


def _image_files(paths: list[Path]) -> list[Path]:
    """The files named, with each folder replaced by the images in it (recursively)."""
    files: list[Path] = []
    for path in paths:
        _require_existing(path, "IMAGES")
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(path)
    return files


def _drawn_as(png_data: bytes, target: Path) -> bytes:
    """The drawn copy in the format the target's extension names (PNG when it names none)."""
    suffix = target.suffix.lower()
    if FORMAT_OF_SUFFIX.get(suffix) in (None, "png", "json"):
        return png_data
    image = pyvips.Image.new_from_buffer(png_data, "")
    return bytes(image.write_to_buffer(suffix))


@app.command()
def detect(
    images: Annotated[list[Path], typer.Argument(help="Image files or folders of images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    draw: Annotated[
        Path | None,
        typer.Option(
            help="Write a copy with the boxes drawn, in the format its extension names "
            "(a folder for several images)."
        ),
    ] = None,
) -> None:
    """Detect faces (detection only: boxes, landmarks, scores)."""
    from focal.faces.drawing import draw_faces

    files = _image_files(images)
    detector = _detector()
    report = []
    for image in files:
        data = image.read_bytes()
        try:
            faces, width, height = detector.detect_bytes(data)
        except Exception as error:  # a file that is no image must not stop the others
            errors.print(f"[red]{image}[/red]: not a readable image ({error})")
            continue
        report.append(
            {
                "file": str(image),
                "width": width,
                "height": height,
                "faces": [face.to_dict() for face in faces],
            }
        )
        if draw is not None:
            several = len(files) > 1 or any(path.is_dir() for path in images)
            target = draw / f"{image.stem}.faces.png" if several else draw
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_drawn_as(draw_faces(data, faces), target))
    if as_json:
        console.print_json(json.dumps(report))
        return
    for entry in report:
        table = Table(title=f"{entry['file']} ({entry['width']}×{entry['height']})")
        for column in ("x1", "y1", "x2", "y2", "score"):
            table.add_column(column, justify="right")
        for face in entry["faces"]:  # type: ignore[attr-defined]
            x1, y1, x2, y2 = face["box"]
            table.add_row(
                f"{x1:.0f}", f"{y1:.0f}", f"{x2:.0f}", f"{y2:.0f}", f"{face['score']:.3f}"
            )
        console.print(table if entry["faces"] else f"{entry['file']}: no face found")


@app.command(name="config")
def config_command(
    host: Annotated[str | None, typer.Option(help="As for serve.")] = None,
    port: Annotated[int | None, typer.Option(help="As for serve.")] = None,
    workers: Annotated[int | None, typer.Option(help="As for serve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
) -> None:
    """The effective settings, and where each came from: default, the FOCAL_CONFIG file, a
    FOCAL_* variable or the command line."""
    resolved = _resolved(host=host, port=port, workers=workers)
    values = shown_values(resolved.settings)
    if as_json:
        report = {
            name: {"value": value, "source": origin.kind, "from": origin.where or None}
            for name, value in values.items()
            for origin in [resolved.origins[name]]
        }
        print(json.dumps(report, indent=2))
        return
    # As TOML lines: a value can be pasted into focal.toml; grep finds one setting.
    lines = [
        (f"{name} = {json.dumps('' if value is None else value)}", str(resolved.origins[name]))
        for name, value in values.items()
    ]
    width = max(len(line) for line, _ in lines)
    for line, origin in lines:
        print(f"{line.ljust(width)}  # {origin}")


token_app = typer.Typer(help="Bearer tokens of the management API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _hosted_catalog() -> HostedCatalog:
    settings = _settings()
    return HostedCatalog(open_catalog(catalog_url(settings.data_dir, settings.catalog_url)))


def _refuse_a_name_in_use(catalog: HostedCatalog, name: str) -> None:
    """Two active tokens of one name cannot be told apart when one must be revoked."""
    wanted = name.strip()
    for token in catalog.list_tokens():
        if token["name"] == wanted and not token["revoked"]:
            raise FocalError(
                ErrorKind.BAD_OPTIONS,
                f"a token named {wanted!r} exists already (id {token['id']}): choose another "
                f"name, or revoke it first with: focal token revoke {token['id']}",
            )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'ci'.")],
) -> None:
    """Create a token and print its secret, once: only its hash is kept."""
    catalog = _hosted_catalog()
    try:
        _refuse_a_name_in_use(catalog, name)
        token_id, secret = catalog.create_token(name)
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from None
    finally:
        catalog.engine.dispose()
    console.print(f"created token {token_id} ({name.strip()})", highlight=False)
    console.print("secret (shown only now; send it as 'Authorization: Bearer <secret>'):")
    typer.echo(secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens: id, name, creation time, status. Secrets are not kept, so not shown."""
    catalog = _hosted_catalog()
    try:
        tokens = catalog.list_tokens()
    finally:
        catalog.engine.dispose()
    if not tokens:
        console.print("no tokens; create one with: focal token create NAME")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=32)  # whole, so it can be copied
    table.add_column("name", overflow="fold")
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("status")
    for token in tokens:
        created = token["created"].strftime("%Y-%m-%d %H:%M:%S")
        status = "revoked" if token["revoked"] else "active"
        table.add_row(token["id"], token["name"], created, status)
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token: requests bearing it are refused from now on."""
    catalog = _hosted_catalog()
    try:
        revoked = catalog.revoke_token(token_id)
    finally:
        catalog.engine.dispose()
    if not revoked:
        errors.print(f"[red]error:[/red] no active token with id {token_id}")
        raise typer.Exit(1)
    console.print(f"revoked token {token_id}", highlight=False)


def _day_option(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is no date: use YYYY-MM-DD", param_hint=name) from None


def _hosted_line(hosted: dict[str, Any]) -> str:
    """Hosted images as billed: stored now and delivered this month, with their quotas."""

    def of(quota: int | None) -> str:
        return f" of a quota of {quota:,}" if quota else ""

    return (
        f"hosted images: {hosted['images_stored']:,} stored{of(hosted['images_quota'])}; "
        f"{hosted['deliveries_this_month']:,} delivered in {hosted['month']}"
        f"{of(hosted['deliveries_quota'])}"
    )


def _calls_line(calls: dict[str, Any]) -> str:
    """Calls as billed: GB sent to clients, what is past the free allowance, and its cost."""
    return (
        f"calls: {calls['egress_gb']:,.6f} GB sent to clients; {calls['billable_gb']:,.6f} GB "
        f"past {calls['free_gb_per_month']:,g} GB free a month, at ${calls['price_per_gb']:.2f} "
        f"per GB: ${calls['cost']:,.4f}"
    )


def _chart(report: dict[str, Any]) -> str:
    """The daily unique transformations as a bar chart for the terminal."""
    plotext.clear_figure()
    plotext.theme("clear")
    plotext.date_form("Y-m-d")
    days = report["days"]
    counts = [day["unique_transformations"] for day in days]
    plotext.bar([day["date"] for day in days], counts, width=0.6)
    plotext.ylim(0, max([1, *counts]))  # no negative axis on quiet days
    plotext.title("unique transformations per day")
    plotext.plotsize(min(console.width, 120), 20)
    chart: str = plotext.build()
    return chart


@app.command()
def usage(
    first: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC); default 30 days ago.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC); default today.")
    ] = None,
    chart: Annotated[bool, typer.Option("--chart", help="Draw the daily counts.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Unique transformations, deliveries, stored images and cost, per day and in total."""
    settings = _settings()
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    now = now_micros()
    try:
        first_day, last_day = report_range(
            _day_option(first, "--from"), _day_option(last, "--to"), from_micros(now).date()
        )
        report = usage_report(
            UsageStore(engine),
            first_day,
            last_day,
            price_per_1000=settings.price_per_1000_transformations,
            quota=settings.transformation_quota,
            now=now,
            hosted_quotas=HostedQuotas.from_settings(settings),
        )
        report["calls"] = calls_report_of(engine, settings, report["from"], report["to"])
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps(report))
        return
    table = Table(
        "date",
        "unique transformations",
        "deliveries",
        "images stored",
        "stream min recorded",
        "stream min delivered",
        "cost",
    )
    for day in report["days"]:
        table.add_row(
            day["date"],
            f"{day['unique_transformations']:,}",
            f"{day['deliveries']:,}",
            f"{day['images_stored']:,}",
            f"{day['stream_minutes_recorded']:,.1f}",
            f"{day['stream_minutes_delivered']:,.1f}",
            f"${day['cost']:,.4f}",
        )
    total = report["total"]
    table.add_section()
    table.add_row(
        "total",
        f"{total['unique_transformations']:,}",
        f"{total['deliveries']:,}",
        f"{total['images_stored']:,}",
        f"{total['stream_minutes_recorded']:,.1f}",
        f"{total['stream_minutes_delivered']:,.1f}",
        f"${total['cost']:,.4f}",
        style="bold",
    )
    console.print(table)
    window = report["window"]
    quota = f" of a quota of {window['quota']:,}" if window["quota"] else ""
    console.print(
        f"{window['unique_transformations']:,} unique transformations in the last "
        f"{window['days']} days{quota}; "
        f"price ${report['price_per_1000_transformations']:.2f} per 1,000",
        highlight=False,
    )
    console.print(_hosted_line(report["hosted"]), highlight=False)
    console.print(_calls_line(report["calls"]), highlight=False)
    if chart:
        console.print(Text.from_ansi(_chart(report)))


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    """`90`, `90s`, `15m`, `1h`, `30d` in seconds (more than 0)."""
    text = text.strip().lower()
    unit = text[-1:] if text[-1:] in _DURATION_UNITS else "s"
    number = text.removesuffix(unit) if text[-1:] in _DURATION_UNITS else text
    if not number.isdigit() or int(number) <= 0:
        raise typer.BadParameter(f"{text!r} is not a duration: e.g. 90, 15m, 1h or 30d")
    return int(number) * _DURATION_UNITS[unit]


@app.command()
def sign(
    options: Annotated[str, typer.Argument(help='e.g. "width=400,fit=cover" or preset=thumb.')],
    source: Annotated[str, typer.Argument(help="An origin path or a remote image URL.")],
    expires_in: Annotated[
        str, typer.Option(help="How long the URL is valid: 90 (seconds), 15m, 1h, 30d.")
    ] = "1h",
    base_url: Annotated[
        str | None, typer.Option(help="The server's public URL; default http://<host>:<port>.")
    ] = None,
) -> None:
    """Print a signed /cdn-cgi/image/ URL, made with the first of FOCAL_URL_SIGNING_KEYS."""
    from focal.sdk.signed_urls import sign_transformation

    settings = _settings()
    if not settings.url_signing_keys:
        errors.print("error: no URL signing key: set FOCAL_URL_SIGNING_KEYS (or url_signing_keys)")
        raise typer.Exit(2)
    base = base_url if base_url is not None else f"http://{settings.host}:{settings.port}"
    key = settings.url_signing_keys[0]
    typer.echo(sign_transformation(key, options, source, _seconds(expires_in), base))
