"""The `focal` command: serve, transform files, describe files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from focal.config import load_settings
from focal.errors import FocalError
from focal.options import parse_options
from focal.pipeline import Limits, probe
from focal.service import ClientHints, Described, transform

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


def _limits() -> Limits:
    settings = load_settings()
    return Limits(settings.max_source_bytes, settings.max_pixels, settings.max_side)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes.")] = None,
) -> None:
    """Run the HTTP server (defaults: 127.0.0.1:8080, data in ./data)."""
    import uvicorn

    settings = load_settings()
    settings.origin_path.mkdir(parents=True, exist_ok=True)
    uvicorn.run(
        "focal.server.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="info",
    )


@app.command(name="transform")
def transform_command(
    source: Annotated[Path, typer.Argument(help="An image, or a folder of images.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file or folder.")],
    options: Annotated[str, typer.Option("--options", help='e.g. "width=400,fit=cover".')],
    accept: Annotated[
        str, typer.Option(help="Formats format=auto may choose, as an Accept header.")
    ] = "image/avif,image/webp",
) -> None:
    """Transform an image, or every image in a folder, with URL-form options."""
    try:
        parse_options(options)
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
                    _transform_into(file, target, options, accept, keep_name=False)
                except FocalError as error:
                    failed += 1
                    progress.console.print(f"[red]{file}[/red]: {error.message}")
                progress.advance(task)
        console.print(f"{len(files) - failed} transformed, {failed} failed → {output}")
        raise typer.Exit(1 if failed else 0)
    try:
        written = _transform_into(source, output, options, accept, keep_name=True)
    except FocalError as error:
        errors.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from None
    console.print(f"{source} → {written}")


def _transform_into(
    source: Path, target: Path, options_text: str, accept: str, *, keep_name: bool
) -> Path:
    """Write the result; in folder mode the extension follows the output format."""
    result = transform(
        source.read_bytes(), parse_options(options_text), ClientHints(accept=accept), _limits()
    )
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
    image: Annotated[Path, typer.Argument(help="An image file.")],
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
