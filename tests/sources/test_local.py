"""The origin folder: files under it are served, nothing outside it ever is."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from focal.errors import ErrorKind, FocalError
from focal.sources.base import Source
from focal.sources.local import LocalFileSource, LocalOrigin


@pytest.fixture
def origin(tmp_path: Path) -> LocalOrigin:
    root = tmp_path / "origin"
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"A" * 10)
    (root / "sub" / "b.png").write_bytes(b"B" * 20)
    (tmp_path / "secret.txt").write_bytes(b"secret")
    return LocalOrigin(root, max_bytes=100)


def kind_of(origin: LocalOrigin, relative: str) -> ErrorKind:
    with pytest.raises(FocalError) as caught:
        origin.read(relative)
    return caught.value.kind


def test_reads_files_under_the_root(origin: LocalOrigin) -> None:
    assert origin.read("a.jpg").data == b"A" * 10
    assert origin.read("sub/b.png").data == b"B" * 20
    assert origin.read("/sub//./b.png").data == b"B" * 20
    assert origin.read("sub\\b.png").data == b"B" * 20


@pytest.mark.parametrize(
    "relative",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "..\\secret.txt",
        "sub/..",
        "..",
        "",
        "/",
        ".",
        "a.jpg\x00.png",
    ],
)
def test_refuses_paths_that_leave_the_root(origin: LocalOrigin, relative: str) -> None:
    assert kind_of(origin, relative) is ErrorKind.INVALID_URL


def test_refuses_symlinks_that_leave_the_root(origin: LocalOrigin, tmp_path: Path) -> None:
    (origin.root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (origin.root / "dir").symlink_to(tmp_path)
    assert kind_of(origin, "link.txt") is ErrorKind.INVALID_URL
    assert kind_of(origin, "dir/secret.txt") is ErrorKind.INVALID_URL


def test_refuses_a_dangling_symlink_that_leaves_the_root(
    origin: LocalOrigin, tmp_path: Path
) -> None:
    (origin.root / "gone.txt").symlink_to(tmp_path / "never-there.txt")
    assert kind_of(origin, "gone.txt") is ErrorKind.INVALID_URL


def test_symlinks_inside_the_root_are_followed(origin: LocalOrigin) -> None:
    (origin.root / "alias.jpg").symlink_to(origin.root / "a.jpg")
    (origin.root / "folder").symlink_to(origin.root / "sub")
    (origin.root / "itself").symlink_to(origin.root)
    assert origin.read("alias.jpg").data == b"A" * 10
    assert origin.read("folder/b.png").data == b"B" * 20
    # Found by its real path: one spelling for metering, wherever the link was.
    assert origin.stat("folder/b.png").name == "sub/b.png"
    assert kind_of(origin, "itself") is ErrorKind.NOT_FOUND  # the folder, not a file


@pytest.mark.parametrize(
    "relative", ["missing.jpg", "sub", "sub/missing/x.png", "a" * 300, "x/" * 3000 + "y", "loop"]
)
def test_missing_files_and_unusable_names_are_not_found(origin: LocalOrigin, relative: str) -> None:
    (origin.root / "loop").symlink_to(origin.root / "loop")
    assert kind_of(origin, relative) is ErrorKind.NOT_FOUND


def test_files_over_the_limit_are_refused_without_reading_them(origin: LocalOrigin) -> None:
    (origin.root / "big.jpg").write_bytes(b"C" * 101)
    assert kind_of(origin, "big.jpg") is ErrorKind.SOURCE_TOO_LARGE
    (origin.root / "edge.jpg").write_bytes(b"C" * 100)
    assert len(origin.read("edge.jpg").data) == 100


def test_a_file_that_grew_past_the_limit_after_it_was_looked_at_is_refused(
    origin: LocalOrigin,
) -> None:
    """The read is sized by the file as it is when read, and still stops one byte past the
    limit."""
    path = origin.root / "growing.jpg"
    path.write_bytes(b"G" * 50)
    file = origin.stat("growing.jpg")
    assert origin.load(file) == b"G" * 50
    path.write_bytes(b"G" * 500)
    with pytest.raises(FocalError) as caught:
        origin.load(file)
    assert caught.value.kind is ErrorKind.SOURCE_TOO_LARGE


def test_fingerprint_changes_with_the_file(origin: LocalOrigin) -> None:
    first = origin.read("a.jpg").fingerprint
    assert origin.read("a.jpg").fingerprint == first
    path = origin.root / "a.jpg"
    path.write_bytes(b"Z" * 10)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert origin.read("a.jpg").fingerprint != first
    assert str(origin.root) not in first


def test_fingerprint_is_the_content_hash_remembered_by_stat(
    origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    (origin.root / "copy.jpg").write_bytes((origin.root / "a.jpg").read_bytes())
    unknown = origin.stat("a.jpg")
    assert unknown.fingerprint == "" and unknown.data is None  # stat alone reads nothing
    first = origin.hashed(unknown)
    assert first.data is not None  # read once, to hash it
    assert first.fingerprint == "file:" + hashlib.sha256(first.data).hexdigest()
    copy = origin.hashed(origin.stat("copy.jpg"))
    assert copy.fingerprint == first.fingerprint  # same content, same fingerprint
    assert origin.stat(".//a.jpg").name == "a.jpg"

    def no_reading(*_: object) -> bytes:
        raise AssertionError("a known file was read again")

    monkeypatch.setattr(LocalOrigin, "load", no_reading)
    again = origin.stat("a.jpg")
    assert again.fingerprint == first.fingerprint and again.data is None
    # Touched without a change of content: read again, and the same fingerprint.
    monkeypatch.undo()
    path = origin.root / "a.jpg"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert origin.stat("a.jpg").fingerprint == ""
    assert origin.hashed(origin.stat("a.jpg")).fingerprint == first.fingerprint


@pytest.mark.parametrize("relative", [".env", "sub/.secret.png", ".git/config", "./.env"])
def test_hidden_files_and_folders_are_never_found(origin: LocalOrigin, relative: str) -> None:
    for name in (".env", "sub/.secret.png", ".git/config"):
        path = origin.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"secret")
    assert kind_of(origin, relative) is ErrorKind.NOT_FOUND
    with pytest.raises(FocalError, match="hidden"):
        origin.stat(relative)


def test_links_to_hidden_files_are_never_followed(origin: LocalOrigin) -> None:
    (origin.root / ".git").mkdir()
    (origin.root / ".git" / "photo.jpg").write_bytes(b"C" * 10)
    (origin.root / "photo.jpg").symlink_to(origin.root / ".git" / "photo.jpg")
    (origin.root / "folder").symlink_to(origin.root / ".git")
    assert kind_of(origin, "photo.jpg") is ErrorKind.NOT_FOUND
    assert kind_of(origin, "folder/photo.jpg") is ErrorKind.NOT_FOUND
    # a name with a dot inside is not hidden
    (origin.root / "a.b.jpg").write_bytes(b"D" * 10)
    assert origin.read("a.b.jpg").data == b"D" * 10


def test_a_file_as_a_source_reads_only_when_its_bytes_were_not_read_to_hash_it(
    origin: LocalOrigin,
) -> None:
    seen = origin.hashed(origin.stat("sub/b.png"))  # first sight: read to hash
    first: Source = LocalFileSource(origin, seen)
    assert first.in_memory
    assert (first.name, first.original_url) == ("origin:sub/b.png", "/originals/sub/b.png")
    assert first.fingerprint == "file:" + hashlib.sha256(b"B" * 20).hexdigest()
    again: Source = LocalFileSource(origin, origin.stat("/sub/b.png"))  # known by its stat
    assert not again.in_memory and again.fingerprint == first.fingerprint
    assert again.name == first.name  # one spelling for metering
    assert asyncio.run(again.read()) == asyncio.run(first.read()) == b"B" * 20
    # The same read as a blocking call, for an image thread to make.
    assert again.blocking_read()() == first.blocking_read()() == b"B" * 20
