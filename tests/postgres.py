"""A throwaway PostgreSQL cluster for the tests, when the server binaries are on this machine.

Registered as a plugin by tests/conftest.py. `database_url` gives each test an empty catalog
database (`engine`: the same, migrated) on every available backend: SQLite always,
PostgreSQL when `initdb`, `pg_ctl` and `postgres` are found (on PATH or in
/usr/lib/postgresql/*/bin) and psycopg is installed. Without them the PostgreSQL cases are
reported as skipped with the reason, and fail under CI (`CI` set), where `.ci/run` installs
the server. One cluster serves the whole session;
it listens on a Unix socket in its own temporary folder only (no TCP port to collide on),
runs without fsync, and is removed at the end. Run as root, it runs as an unprivileged user
(`postgres` or `nobody`), since initdb refuses root.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from focal.catalog import open_catalog

PROGRAMS = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "focal"
STARTUP_TIMEOUT = 30.0  # seconds; a healthy cluster is up in well under one
_database_numbers = itertools.count()


def _version_key(folder: Path) -> tuple[int, ...]:
    version = folder.parent.name  # /usr/lib/postgresql/<version>/bin
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def server_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None without a PostgreSQL server."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(installed, key=_version_key, reverse=True)
    for folder in candidates:
        if all(os.access(folder / program, os.X_OK) for program in PROGRAMS):
            return folder
    return None


def missing() -> str | None:
    """Why no PostgreSQL cluster can be started here, or None when one can."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl, postgres): apt install postgresql"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    return None


def require_postgres() -> None:
    """Skip the test without PostgreSQL, saying why; under CI that is a failure."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(reason)


# The catalog backends every catalog test runs on.
BACKENDS = ["sqlite", "postgresql"]


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither user postgres nor nobody exists")


@dataclass
class PostgresCluster:
    """A running cluster: `url(database)` is a SQLAlchemy URL through its Unix socket."""

    socket_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    _admin: Engine | None = None

    def url(self, database: str = "postgres") -> str:
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"
        )

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"test_{next(_database_numbers)}"
        # FILE_COPY (PostgreSQL 15+) copies the small template faster than logging it to the
        # WAL; without fsync the checkpoint it needs is cheap.
        version = int(self.execute("SHOW server_version_num") or 0)
        strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0{strategy}')
        return name

    def drop_database(self, name: str) -> None:
        # FORCE closes connections an engine under test left open.
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, statement: str) -> Any:
        """Run one statement on the maintenance database, outside any transaction; returns
        the first column of its first row, if any."""
        if self._admin is None:
            self._admin = create_engine(self.url(), isolation_level="AUTOCOMMIT", pool_size=1)
        with self._admin.connect() as connection:
            result = connection.execute(text(statement))
            return result.scalar() if result.returns_rows else None

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None


def _as_user(command: list[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return command
    # The cluster dies with this process if the test run is killed.
    return [
        "setpriv",
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--pdeathsig=SIGQUIT",
        "--",
        *command,
    ]


def _wait_until_ready(cluster: PostgresCluster, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if cluster.process.poll() is not None:
            raise RuntimeError(f"postgres exited at start-up:\n{log.read_text()}")
        try:
            cluster.execute("SELECT 1")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres is not ready:\n{log.read_text()}") from None
            time.sleep(0.05)


def start_cluster(binaries: Path, folder: Path) -> PostgresCluster:
    """initdb and start a cluster in `folder` (which must be empty and not yet shared)."""
    user = _unprivileged_user() if os.geteuid() == 0 else None
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    log = folder / "postgres.log"
    initdb = [
        str(binaries / "initdb"),
        f"--pgdata={data}",
        f"--username={SUPERUSER}",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ]
    subprocess.run(_as_user(initdb, user), check=True, capture_output=True, cwd=folder)
    port = 5432  # only names the socket file, in a folder of our own: nothing to collide with
    settings = {
        "listen_addresses": "",
        "unix_socket_directories": str(folder),
        "port": str(port),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "32MB",
    }
    options = [f"--{name}={value}" for name, value in settings.items()]
    with log.open("wb") as output:
        process = subprocess.Popen(
            _as_user([str(binaries / "postgres"), "-D", str(data), *options], user),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    cluster = PostgresCluster(socket_dir=folder, port=port, process=process)
    try:
        _wait_until_ready(cluster, log)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: PostgresCluster) -> None:
    cluster.close()
    if cluster.process.poll() is None:
        cluster.process.send_signal(signal.SIGQUIT)  # immediate shutdown: nothing to keep
        try:
            cluster.process.wait(30)
        except subprocess.TimeoutExpired:
            cluster.process.kill()
            cluster.process.wait()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the whole session."""
    require_postgres()
    binaries = server_binaries()
    assert binaries is not None
    # Not under pytest's tmp_path: that folder is private to root, out of the server's reach.
    folder = Path(tempfile.mkdtemp(prefix="focal-pg-"))
    try:
        cluster = start_cluster(binaries, folder)
        try:
            yield cluster
        finally:
            stop_cluster(cluster)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database, once per backend: a SQLite file in tmp_path,
    or a new database of the session's PostgreSQL cluster (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'focal.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A catalog migrated to the latest schema, once per backend."""
    engine = open_catalog(database_url)
    yield engine
    engine.dispose()
