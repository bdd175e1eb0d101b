"""The local folder backend: its layout, crash safety, and the temporary files it leaves."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest

from focal.config import load_settings
from focal.storage import BlobNotFound, LocalBlobStore, open_blob_store
from focal.storage.owner import this_process

# Puts 200 MB, saying "started" just before; the test kills it in the middle of the put.
SLOW_PUT = """
import sys
from pathlib import Path
from focal.storage import LocalBlobStore

store = LocalBlobStore(Path(sys.argv[1]))
data = bytes(range(1, 256)) * (200_000_000 // 255)
print("started", flush=True)
store.put("images/x/original", data)
print("finished", flush=True)
"""


def temporary_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(".focal-tmp-")]


def test_layout_is_root_slash_key(local_store: LocalBlobStore) -> None:
    local_store.put("images/abc/original", b"data")
    assert (local_store.root / "images" / "abc" / "original").read_bytes() == b"data"
    assert temporary_files(local_store.root) == []


def test_open_blob_store_picks_a_folder(tmp_path: Path) -> None:
    default = open_blob_store("", tmp_path / "data")
    assert isinstance(default, LocalBlobStore)
    assert default.root == tmp_path / "data" / "blobs"
    assert default.root.is_dir()

    chosen = open_blob_store(f"file://{tmp_path}/my%20blobs", tmp_path / "data")
    assert isinstance(chosen, LocalBlobStore)
    assert chosen.root == tmp_path / "my blobs"
    chosen.put("k", b"v")
    assert (tmp_path / "my blobs" / "k").read_bytes() == b"v"

    assert isinstance(open_blob_store(f"file://localhost{tmp_path}", tmp_path), LocalBlobStore)


@pytest.mark.parametrize(
    "url", ["file:relative/path", "file://elsewhere/srv/blobs", "file:///srv?x=1", "ftp://host/x"]
)
def test_open_blob_store_refuses_other_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError):
        open_blob_store(url, tmp_path)


def test_storage_url_setting() -> None:
    assert load_settings(environ={}).storage_url == ""
    settings = load_settings(environ={"FOCAL_STORAGE_URL": "s3://bucket/blobs"})
    assert settings.storage_url == "s3://bucket/blobs"


def test_deleting_the_last_blob_of_a_folder_removes_the_folder(
    local_store: LocalBlobStore,
) -> None:
    local_store.put("images/a/original", b"a")
    local_store.put("images/a/variants/thumb", b"t")
    local_store.put("images/b/original", b"b")
    local_store.delete("images/a/variants/thumb")
    assert not (local_store.root / "images" / "a" / "variants").exists()
    assert local_store.delete_prefix("images/a/") == 1
    assert not (local_store.root / "images" / "a").exists()
    local_store.delete("images/b/original")
    assert list(local_store.root.iterdir()) == []
    assert local_store.root.is_dir()


def test_a_key_and_its_folder_cannot_both_be_blobs(local_store: LocalBlobStore) -> None:
    # OSErrors, as for a disk that fails: the keys are good, the folder can't hold both.
    local_store.put("a/b", b"inside")
    with pytest.raises(IsADirectoryError, match="blob key 'a' is a folder of other blobs"):
        local_store.put("a", b"over a folder")
    local_store.put("c", b"file")
    with pytest.raises(NotADirectoryError, match="a folder of blob key 'c/d' is a blob here"):
        local_store.put("c/d", b"under a file")
    with pytest.raises(NotADirectoryError, match="a folder of blob key 'c/d/e' is a blob here"):
        local_store.put("c/d/e", b"further under a file")
    assert local_store.get("a/b") == b"inside"
    assert local_store.get("c") == b"file"
    with pytest.raises(BlobNotFound):  # as in a bucket: nothing is stored under that key
        local_store.get("c/d")
    assert temporary_files(local_store.root) == []


def test_a_root_that_is_a_file_is_a_broken_store_not_an_empty_one(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.put("images/x/original", b"data")
    shutil.rmtree(root)
    root.write_bytes(b"a file where the store's folder was")
    for call in (
        lambda: store.get("images/x/original"),
        lambda: store.exists("images/x/original"),
        lambda: store.put("images/x/original", b"new"),
        lambda: store.put("k", b"new"),
    ):
        with pytest.raises(NotADirectoryError, match="the store's folder is a file, not a folder"):
            call()
    store.delete("images/x/original")  # nothing is stored there to delete
    assert store.delete_prefix("images/") == 0
    assert root.read_bytes() == b"a file where the store's folder was"

    with pytest.raises(NotADirectoryError, match="the store's folder is a file, not a folder"):
        LocalBlobStore(root)
    with pytest.raises(NotADirectoryError):
        LocalBlobStore(root / "under")


def test_a_root_that_is_gone_is_a_broken_store_not_an_empty_one(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.put("images/x/original", b"data")
    shutil.rmtree(root)
    for call in (
        lambda: store.get("images/x/original"),
        lambda: store.exists("images/x/original"),
        lambda: store.put("images/x/original", b"new"),
    ):
        with pytest.raises(FileNotFoundError, match="the store's folder can't be reached"):
            call()
    assert not root.exists()  # not made again behind the operator's back


def test_temporary_files_are_not_blobs(local_store: LocalBlobStore) -> None:
    local_store.put("images/x/original", b"whole")
    leftover = local_store.root / "images" / "x" / ".focal-tmp-original.0123456789abcdef"
    leftover.write_bytes(b"par")
    assert local_store.get("images/x/original") == b"whole"
    with pytest.raises(ValueError):
        local_store.get("images/x/.focal-tmp-original.0123456789abcdef")
    # delete_prefix leaves it to sweep_temporary: it may belong to a put still running.
    assert local_store.delete_prefix("images/x/") == 1
    assert leftover.exists()


def test_sweep_temporary_removes_only_old_temporary_files(local_store: LocalBlobStore) -> None:
    local_store.put("images/x/original", b"whole")
    old = local_store.root / "images" / "x" / ".focal-tmp-original.aaaa"
    new = local_store.root / ".focal-tmp-other.bbbb"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    assert local_store.sweep_temporary(older_than_seconds=3600) == 1
    assert not old.exists()
    assert new.exists()
    assert local_store.sweep_temporary(older_than_seconds=0) == 1
    assert temporary_files(local_store.root) == []
    assert local_store.get("images/x/original") == b"whole"


def test_a_put_killed_midway_leaves_the_previous_blob(local_store: LocalBlobStore) -> None:
    local_store.put("images/x/original", b"previous")
    folder = local_store.root / "images" / "x"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_PUT, str(local_store.root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "started\n"
        # The temporary file appears as the put begins; 200 MB then take a while to write.
        while not temporary_files(folder):
            assert child.poll() is None, "the put finished before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert child.stdout.read() == ""  # it never finished

    assert local_store.get("images/x/original") == b"previous"
    assert local_store.exists("images/x/original")
    assert [path.name for path in folder.iterdir() if path not in temporary_files(folder)] == [
        "original"
    ]
    assert len(temporary_files(folder)) == 1
    # Its writer is dead: its temporary file goes at once, not after the cutoff.
    assert local_store.sweep_temporary(older_than_seconds=3600) == 1
    assert temporary_files(local_store.root) == []
    assert local_store.get("images/x/original") == b"previous"


def test_a_live_writers_temporary_file_waits_for_the_cutoff(local_store: LocalBlobStore) -> None:
    mine = local_store.root / f".focal-tmp-{this_process()}-0123456789abcdef"
    mine.write_bytes(b"being written")
    assert local_store.sweep_temporary(older_than_seconds=3600) == 0
    assert mine.exists()


def test_puts_and_deletes_racing_in_one_folder(local_store: LocalBlobStore) -> None:
    # A delete removes a folder once it is empty, possibly just after a put created it.
    errors: list[str] = []

    def churn(worker: int) -> None:
        try:
            for index in range(100):
                key = f"shared/{index % 3}/{worker}-{index}"
                local_store.put(key, key.encode())
                assert local_store.get(key) == key.encode()
                local_store.delete(key)
        except BaseException:  # reported, with where it happened, by the main thread
            errors.append(traceback.format_exc())

    workers = [threading.Thread(target=churn, args=(worker,)) for worker in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == [], errors[0] if errors else ""
    assert list(local_store.root.iterdir()) == []
    with pytest.raises(BlobNotFound):
        local_store.get("shared/0/0-0")
