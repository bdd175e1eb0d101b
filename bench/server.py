"""The real server, `focal serve`, as a subprocess on 127.0.0.1."""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.procfs import descendants, status_mib

HOST = "127.0.0.1"


@dataclass(frozen=True)
class RunningServer:
    pid: int
    base_url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _focal_command() -> list[str]:
    # The console script next to this interpreter: the one `make bench` installed.
    script = Path(sys.executable).parent / "focal"
    if not script.exists():
        raise SystemExit(f"{script} not found: run `make bench` (it installs Focal first)")
    return [str(script)]


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer {url} within {timeout:g} s; see {log}")


def _tree_rss(pid: int) -> float:
    return sum(status_mib(each, "VmRSS") or 0.0 for each in [pid, *descendants(pid)])


def _wait_settled(pid: int, timeout: float = 30.0) -> None:
    """Wait until the service's memory stops growing: workers started with the server (face
    detection) load their models after /healthz answers, and neither that memory nor that
    CPU belongs to the first scenario."""
    deadline = time.monotonic() + timeout
    previous = _tree_rss(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        current = _tree_rss(pid)
        if abs(current - previous) < 1.0:
            return
        previous = current


@contextmanager
def running_server(
    data_dir: Path,
    origin: Path,
    log: Path,
    focal_src: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Start `focal serve` on a free port with its data in `data_dir`; stop it on exit.

    `focal_src` runs the server from another checkout's `src` folder (e.g. a `git archive`
    of a commit), to compare two versions with the same benchmark; `env` adds variables
    (e.g. FOCAL_CONCURRENCY=4, MALLOC_ARENA_MAX=2) to try settings without code changes."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    environ = {
        **os.environ,
        "FOCAL_DATA_DIR": str(data_dir),
        "FOCAL_ORIGIN_DIR": str(origin),
        "FOCAL_HOST": HOST,
        **(env or {}),
    }
    if focal_src is not None:
        environ["PYTHONPATH"] = str(focal_src.resolve())
    environ.pop("FOCAL_CONFIG", None)  # the developer's own configuration is not the subject
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*_focal_command(), "serve", "--host", HOST, "--port", str(port)],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_healthy(process, f"{base_url}/healthz", log, timeout=60)
        _wait_settled(process.pid)
        yield RunningServer(process.pid, base_url, log)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Servers:
    """The server most scenarios share, started on first use, and fresh ones on demand."""

    def __init__(
        self,
        data_dir: Path,
        origin: Path,
        log_dir: Path,
        focal_src: Path | None,
        env: dict[str, str],
    ) -> None:
        self._start = functools.partial(running_server, data_dir, origin, focal_src=focal_src)
        self._env = env
        self._log_dir = log_dir
        self._stack = ExitStack()
        self._shared: RunningServer | None = None

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    @contextmanager
    def server(self, fresh: bool, env: Mapping[str, str] | None = None) -> Iterator[RunningServer]:
        """The shared server, or a fresh one (asked for, or with settings of its own)."""
        if fresh or env:
            merged = {**self._env, **(env or {})}
            with self._start(self._log_dir / "server-fresh.log", env=merged) as server:
                yield server
            return
        if self._shared is None:
            log = self._log_dir / "server.log"
            self._shared = self._stack.enter_context(self._start(log, env=self._env))
        yield self._shared
