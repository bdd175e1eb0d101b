"""Blobs as files under a folder, written atomically: temporary file, fsync, rename.

A key is a path under the root. Unlike a bucket, a folder can't hold both `a` and `a/b`:
putting one while the other exists raises IsADirectoryError or NotADirectoryError. Those are
OSErrors, as for a disk that fails: the folder can't do what a bucket would, while ValueError
means the key itself is wrong, on every backend.

A root that is gone or not a folder is a broken store, never an empty one: `get`, `exists`
and `put` raise OSError saying so, where a missing blob would be BlobNotFound or False; the
deletes find nothing to remove and do nothing.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from contextlib import suppress
from pathlib import Path

from focal.storage.base import BlobNotFound
from focal.storage.keys import TEMPORARY_MARK, is_temporary, validate_key, validate_prefix
from focal.storage.owner import is_gone, leading_owner, this_process

# A concurrent delete may remove a folder that a put has just created (it was empty).
_PUT_ATTEMPTS = 100  # each retry follows a delete that emptied the folder: rare


def _fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in folder survive a crash of the machine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:  # emptied and removed by a concurrent delete
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalBlobStore:
    """A `BlobStore` in a local folder: `<root>/<key>`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file, or a link to one, where the folder should be
            self._check_root()
            raise

    def _check_root(self) -> None:
        """OSError if the root is not a folder that can be reached: a broken store."""
        try:
            mode = os.stat(self.root).st_mode
        except OSError as error:  # OSError(errno, ...) is the subclass for that errno
            raise OSError(
                error.errno,
                f"the store's folder can't be reached: {error.strerror}",
                str(self.root),
            ) from None
        if not stat.S_ISDIR(mode):
            raise NotADirectoryError(
                errno.ENOTDIR, "the store's folder is a file, not a folder", str(self.root)
            )

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        descriptor, temporary = self._create_temporary(key, path)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.replace(temporary, path)
            except IsADirectoryError:
                raise IsADirectoryError(
                    errno.EISDIR, f"blob key {key!r} is a folder of other blobs here", str(path)
                ) from None
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_folder(path.parent)

    def _create_temporary(self, key: str, path: Path) -> tuple[int, Path]:
        """An open new file beside path, with a name that no key can have.

        The name starts with its writer, so a sweep can remove it as soon as that one is dead.
        """
        owner = this_process()
        for attempt in range(_PUT_ATTEMPTS):
            temporary = path.with_name(f"{TEMPORARY_MARK}{owner}-{secrets.token_hex(8)}")
            try:
                # Inside the retry: a parent made here may be removed (empty) before its child.
                self._make_folders(path.parent)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                return os.open(temporary, flags, 0o666), temporary
            except NotADirectoryError:  # a blob, or a file instead of the root, in the way
                self._check_root()
                raise NotADirectoryError(
                    errno.ENOTDIR, f"a folder of blob key {key!r} is a blob here", str(path)
                ) from None
            except FileNotFoundError:
                self._check_root()  # a root that is gone is not the race retried here
                if attempt == _PUT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _make_folders(self, folder: Path) -> None:
        if folder.is_dir():
            return
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            try:
                os.mkdir(current)
            except FileExistsError:
                continue  # a file in the way is reported when the next entry is made in it
            _fsync_folder(current.parent)

    def get(self, key: str) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            self._check_root()  # only when there is no blob: costs a hit nothing
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        if self._path(key).is_file():
            return True
        self._check_root()
        return False

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        self._remove_empty_folders(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        head, _, tail = validate_prefix(prefix).rpartition("/")
        folder = self.root / head if head else self.root
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        deleted = 0
        for entry in entries:
            if not entry.name.startswith(tail) or is_temporary(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                deleted += self._delete_tree(Path(entry.path))
            else:
                deleted += self._unlink(Path(entry.path))
        self._remove_empty_folders(folder)
        return deleted

    def _delete_tree(self, folder: Path) -> int:
        deleted = 0
        for current, _folders, files in os.walk(folder, topdown=False):
            for name in files:
                if not is_temporary(name):
                    deleted += self._unlink(Path(current, name))
            with suppress(OSError):  # not empty: a put is writing into it
                os.rmdir(current)
        return deleted

    @staticmethod
    def _unlink(path: Path) -> int:
        try:
            os.unlink(path)
        except FileNotFoundError:  # deleted concurrently: not counted twice
            return 0
        return 1

    def _remove_empty_folders(self, folder: Path) -> None:
        # Without this, every deleted image would leave its folder behind for ever.
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = folder.parent

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove the temporary files of puts that died with their process; returns how many.

        A file whose writer is known to be dead goes at once. Any other (a writer on another
        host sharing the folder, or a name without its writer) goes once untouched for
        older_than_seconds: a put in progress keeps touching its file, so minutes spare it.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for current, _folders, files in os.walk(self.root):
            for name in files:
                if not is_temporary(name):
                    continue
                path = Path(current, name)
                owner = leading_owner(name.removeprefix(TEMPORARY_MARK))
                with suppress(FileNotFoundError):
                    if (owner is not None and is_gone(owner)) or path.stat().st_mtime <= cutoff:
                        removed += self._unlink(path)
        return removed

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""
