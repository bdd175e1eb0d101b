"""What `pip install focal` gives without extras: the SDK, and for the rest the extra to install.

Each case runs in a fresh interpreter in which the extras' modules cannot be imported, as on
an install without them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from conftest import PHOTOS
from focal.extras import EXTRA_OF_MODULE

ROOT = Path(__file__).resolve().parents[1]

# Makes every module of the given extras unimportable, then runs the case's code.
WITHOUT_EXTRAS = """
import sys
from importlib.abc import MetaPathFinder

from focal.extras import EXTRA_OF_MODULE

BLOCKED = {{module for module, extra in EXTRA_OF_MODULE.items() if extra in {extras!r}}}


class Uninstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Uninstalled())
"""


def run_without(extras: set[str], code: str) -> subprocess.CompletedProcess[str]:
    program = WITHOUT_EXTRAS.format(extras=extras) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


ALL_EXTRAS = {"server", "faces", "s3", "postgres"}
PHOTO = next(PHOTOS.glob("*__biden.jpg"))


def test_the_sdk_runs_without_any_extra() -> None:
    result = run_without(
        ALL_EXTRAS,
        f"""
        from focal import Images

        images = Images()
        info = images.info({str(PHOTO)!r})
        result = images.input({str(PHOTO)!r}).transform(width=200).output(format="webp")
        print(info.width, info.height, result.content_type, result.width)
        loaded = sorted(m for m in EXTRA_OF_MODULE if m in sys.modules)
        print("loaded:", loaded)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["970 2204 image/webp 200", "loaded: []"]


def test_face_gravity_without_the_faces_extra_names_it() -> None:
    result = run_without(
        {"faces"},
        f"""
        from focal import Images
        from focal.extras import MissingExtra

        try:
            Images().input({str(PHOTO)!r}).transform(
                width=100, height=100, fit="cover", gravity="face"
            ).output(format="jpeg")
        except MissingExtra as error:
            print(error)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "face detection needs onnxruntime, which comes with the 'faces' extra: "
        "pip install 'focal[faces]'"
    )


def test_s3_storage_and_postgresql_catalogs_name_their_extras(tmp_path: Path) -> None:
    result = run_without(
        {"s3", "postgres"},
        f"""
        from pathlib import Path

        from focal.catalog import open_catalog
        from focal.extras import MissingExtra
        from focal.storage import open_blob_store

        open_blob_store("", Path({str(tmp_path)!r}))  # the local folder needs no extra
        for attempt in (
            lambda: open_blob_store("s3://bucket/prefix", Path({str(tmp_path)!r})),
            lambda: open_catalog("postgresql://focal@localhost/focal"),
        ):
            try:
                attempt()
            except MissingExtra as error:
                print(error)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "an s3:// storage URL needs obstore, which comes with the 's3' extra: "
        "pip install 'focal[s3]'",
        "the catalog URL postgresql:// needs psycopg, which comes with the 'postgres' extra: "
        "pip install 'focal[postgres]'",
    ]


@pytest.mark.parametrize("extras", [{"server"}, ALL_EXTRAS])
def test_the_focal_command_without_the_server_extra_names_it(extras: set[str]) -> None:
    result = run_without(
        extras,
        """
        sys.argv = ["focal", "--help"]
        from focal.command import main

        main()
        """,
    )
    assert result.returncode == 1
    assert "comes with the 'server' extra: pip install 'focal[server]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_extra_module_belongs_to_a_declared_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRA_OF_MODULE.values()) <= set(extras)
    assert extras["all"] == ["focal[server,faces,s3,postgres,stream,calls]"]
    assert not any("fastapi" in requirement for requirement in project["dependencies"])
