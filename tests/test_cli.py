"""The focal command: transform a file or a folder, describe a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips
from typer.testing import CliRunner

from conftest import read_photo
from focal.cli import app
from imaging import animated, coloured_frames, gradient, png

runner = CliRunner()


def size_of(path: Path) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height


def loader_of(path: Path) -> str:
    return str(pyvips.Image.new_from_file(str(path)).get("vips-loader"))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    (folder / "cat.png").write_bytes(read_photo("chelsea"))
    (folder / "rocket.jpg").write_bytes(read_photo("rocket"))
    (folder / "nested" / "gradient.PNG").write_bytes(png(gradient(300, 200)))
    (folder / "readme.txt").write_text("not an image, and not picked up\n")
    return folder


def test_transform_one_file(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.webp"
    result = runner.invoke(
        app,
        [
            "transform",
            str(photos / "rocket.jpg"),
            "-o",
            str(out),
            "--options",
            "w=200,h=200,fit=cover,f=webp",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert out.read_bytes()[8:12] == b"WEBP"
    assert size_of(out) == (200, 200)
    assert "small.webp" in result.output


def test_transform_one_file_keeps_the_name_given(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.anything"
    result = runner.invoke(
        app, ["transform", str(photos / "cat.png"), "-o", str(out), "--options", "width=100"]
    )
    assert result.exit_code == 0, result.output
    assert loader_of(out).startswith("pngload")  # no format given: the original's
    assert size_of(out) == (100, 67)


def test_transform_format_auto_uses_the_accept_option(photos: Path, tmp_path: Path) -> None:
    avif = tmp_path / "a.img"
    jpeg = tmp_path / "b.img"
    source = str(photos / "rocket.jpg")
    assert (
        runner.invoke(
            app, ["transform", source, "-o", str(avif), "--options", "w=64,f=auto"]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app,
            ["transform", source, "-o", str(jpeg), "--options", "w=64,f=auto", "--accept", "*/*"],
        ).exit_code
        == 0
    )
    assert loader_of(avif).startswith("heifload")
    assert loader_of(jpeg).startswith("jpegload")


def test_transform_json_writes_the_description(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "facts.json"
    result = runner.invoke(
        app,
        [
            "transform",
            str(photos / "rocket.jpg"),
            "-o",
            str(out),
            "--options",
            "width=320,format=json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert (body["width"], body["height"]) == (320, 214)
    assert body["original"] == {
        "file_size": len(read_photo("rocket")),
        "format": "image/jpeg",
        "width": 640,
        "height": 427,
    }


def test_transform_a_folder(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "thumbs"
    result = runner.invoke(
        app, ["transform", str(photos), "-o", str(out), "--options", "w=50,h=50,fit=cover,f=webp"]
    )
    assert result.exit_code == 0, result.output
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert written == ["cat.webp", "nested/gradient.webp", "rocket.webp"]
    for path in out.rglob("*.webp"):
        assert size_of(path) == (50, 50)
        assert loader_of(path).startswith("webpload")
    assert "3 transformed, 0 failed" in result.output


def test_transform_a_folder_names_files_by_their_output_format(
    photos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "same"
    result = runner.invoke(app, ["transform", str(photos), "-o", str(out), "--options", "w=40"])
    assert result.exit_code == 0, result.output
    assert (out / "cat.png").exists() and (out / "rocket.jpg").exists()
    assert (out / "nested" / "gradient.png").exists()
    assert loader_of(out / "rocket.jpg").startswith("jpegload")


def test_transform_a_folder_goes_on_after_a_failure(photos: Path, tmp_path: Path) -> None:
    (photos / "broken.jpg").write_text("this is not a JPEG\n")
    (photos / "anim.gif").write_bytes(animated(coloured_frames(40, 20, 3)))
    out = tmp_path / "thumbs"
    result = runner.invoke(app, ["transform", str(photos), "-o", str(out), "--options", "width=20"])
    assert result.exit_code == 1
    assert "broken.jpg" in result.output
    assert "4 transformed, 1 failed" in result.output
    assert not (out / "broken.jpg").exists()
    animation = pyvips.Image.new_from_file(str(out / "anim.gif"), n=-1)
    assert animation.get("n-pages") == 3 and animation.width == 20


def test_transform_refuses_bad_options(photos: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "transform",
            str(photos / "cat.png"),
            "-o",
            str(tmp_path / "x.png"),
            "--options",
            "fit=stretch,width=10",
        ],
    )
    assert result.exit_code == 2
    assert "fit" in result.output and "scale-down" in result.output
    assert not (tmp_path / "x.png").exists()


def test_transform_reports_a_bad_image(tmp_path: Path) -> None:
    source = tmp_path / "notes.jpg"
    source.write_text("not an image")
    result = runner.invoke(
        app, ["transform", str(source), "-o", str(tmp_path / "x.jpg"), "--options", "width=10"]
    )
    assert result.exit_code == 1
    assert "not an image" in result.output


def test_info_json(photos: Path) -> None:
    result = runner.invoke(app, ["info", str(photos / "rocket.jpg"), "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts == {
        "format": "image/jpeg",
        "file_size": len(read_photo("rocket")),
        "width": 640,
        "height": 427,
        "frames": 1,
        "has_alpha": False,
        "orientation": 1,
    }


def test_info_of_an_animation_and_of_an_oriented_jpeg(tmp_path: Path) -> None:
    gif = tmp_path / "anim.gif"
    gif.write_bytes(animated(coloured_frames(40, 20, 3)))
    facts = json.loads(runner.invoke(app, ["info", str(gif), "--json"]).output)
    assert (facts["format"], facts["width"], facts["height"], facts["frames"]) == (
        "image/gif",
        40,
        20,
        3,
    )
    image = gradient(120, 80).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    turned = tmp_path / "turned.jpg"
    turned.write_bytes(image.jpegsave_buffer())
    facts = json.loads(runner.invoke(app, ["info", str(turned), "--json"]).output)
    assert (facts["width"], facts["height"], facts["orientation"]) == (80, 120, 6)


def test_info_table_and_errors(photos: Path, tmp_path: Path) -> None:
    table = runner.invoke(app, ["info", str(photos / "cat.png")])
    assert table.exit_code == 0
    assert "image/png" in table.output and "451" in table.output and "300" in table.output
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    failed = runner.invoke(app, ["info", str(text), "--json"])
    assert failed.exit_code == 1
    assert "not an image" in failed.output


def test_the_installed_command_runs(photos: Path) -> None:
    focal = Path(sys.executable).with_name("focal")
    completed = subprocess.run(
        [str(focal), "info", str(photos / "cat.png"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["width"] == 451


def test_missing_paths_are_usage_errors_not_tracebacks(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jpg")
    for args in (
        ["info", missing],
        ["info", str(tmp_path)],
        ["transform", missing, "-o", str(tmp_path / "x.jpg"), "--options", "w=1"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert "Invalid value" in result.output


def test_serve_refuses_an_unknown_log_format_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FOCAL_LOG_FORMAT", "xml")
    monkeypatch.setenv("FOCAL_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "FOCAL_LOG_FORMAT=xml: log_format must be one of text, json" in result.output
    assert not (tmp_path / "origin").exists()  # refused before anything was made


# --- output formats, folders and missing files -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "loader"),
    [("x.png", "pngload"), ("x.webp", "webpload"), ("x.JPEG", "jpegload"), ("x.avif", "heifload")],
)
def test_transform_output_extension_chooses_the_format(
    photos: Path, tmp_path: Path, name: str, loader: str
) -> None:
    out = tmp_path / name
    result = runner.invoke(
        app, ["transform", str(photos / "rocket.jpg"), "-o", str(out), "--options", "w=100"]
    )
    assert result.exit_code == 0, result.output
    assert loader_of(out).startswith(loader)
    assert size_of(out) == (100, 67)


def test_transform_format_given_and_extension_agree_or_are_refused(
    photos: Path, tmp_path: Path
) -> None:
    agreeing = tmp_path / "x.jpg"
    args = ["transform", str(photos / "cat.png"), "--options"]
    assert runner.invoke(app, [*args, "w=50,f=jpeg", "-o", str(agreeing)]).exit_code == 0
    assert loader_of(agreeing).startswith("jpegload")
    conflict = tmp_path / "y.png"
    result = runner.invoke(app, [*args, "w=50,f=webp", "-o", str(conflict)])
    assert result.exit_code == 2
    assert "format=webp" in result.output and "y.png" in result.output
    assert "y.webp" in result.output  # the name that would agree
    assert not conflict.exists()


def test_detect_draws_in_the_format_of_the_extension(tmp_path: Path) -> None:
    source = tmp_path / "people.jpg"
    source.write_bytes(read_photo("multi_face"))
    boxes = tmp_path / "boxes.jpg"
    result = runner.invoke(app, ["detect", str(source), "--draw", str(boxes)])
    assert result.exit_code == 0, result.output
    assert loader_of(boxes).startswith("jpegload")


def test_detect_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    (folder / "one.jpg").write_bytes(read_photo("single_face"))
    (folder / "more" / "two.jpg").write_bytes(read_photo("multi_face"))
    (folder / "notes.txt").write_text("no image\n")
    drawn = tmp_path / "drawn"
    result = runner.invoke(app, ["detect", str(folder), "--json", "--draw", str(drawn)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [Path(entry["file"]).name for entry in report] == ["two.jpg", "one.jpg"]
    assert all(entry["faces"] for entry in report)
    assert sorted(path.name for path in drawn.iterdir()) == ["one.faces.png", "two.faces.png"]


def test_a_missing_file_is_one_line_of_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    for args in (
        ["detect", str(missing)],
        ["transform", str(missing), "-o", str(tmp_path / "x.jpg"), "--options", "w=1"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "nope.jpg" in lines[0], result.output
