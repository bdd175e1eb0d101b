"""Face detection in worker processes, so that a leak, hang or crash in inference costs one
request a fallback instead of taking the server down.

Each worker slot holds one spawned process with the model loaded once, fed through a pipe.
A worker is replaced when it dies, when a task outlives the timeout (it is killed), after a
number of tasks, or when its resident memory passes a cap. Callers get a `DetectionResult` or a
`DetectionUnavailable` they can answer with centre gravity: every task ends within its timeout
(callers beyond the number of workers wait their turn).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from focal.faces.detector import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_SCORE_THRESHOLD,
    Face,
    FaceDetector,
)
from focal.memory import WORKER_ARENAS, limit_malloc_arenas, release_free_memory
from focal.pipeline.source import Limits

MIB = 1024 * 1024
_STOP_GRACE = 2.0  # seconds a retiring worker gets to exit before it is killed


class DetectionUnavailable(Exception):
    """Detection could not run (worker crashed, timed out, failed); use another gravity."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DetectionResult:
    """Faces in pixels of the upright original, and that original's size."""

    faces: tuple[Face, ...]
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "faces": [face.to_dict() for face in self.faces],
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DetectionResult:
        return cls(
            faces=tuple(Face.from_dict(face) for face in data["faces"]),
            width=int(data["width"]),
            height=int(data["height"]),
        )


class BytesDetector(Protocol):
    def detect_bytes(self, data: bytes) -> tuple[list[Face], int, int]: ...


class FaceDetectors(Protocol):
    """What a server needs of its detectors: local workers (`DetectorPool`) or a detector
    service (`faces.remote.RemoteDetector`)."""

    @property
    def tasks_run(self) -> int: ...

    @property
    def state(self) -> str: ...

    @property
    def start_failure(self) -> str | None: ...

    def start(self, wait_ready: bool = False) -> None: ...

    async def detect(self, data: bytes) -> DetectionResult: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class _Reply:
    result: DetectionResult | None
    error: str | None
    resident_bytes: int


def _resident_bytes() -> int:
    """This process's resident set size, from /proc (0 where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _serve(conn: Connection, make_detector: Callable[[], BytesDetector]) -> None:
    """Worker process main loop: load once, then answer one task at a time until told to stop."""
    # Ctrl+C in a terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Every image is a different size: without this, freed buffers stay in the heap and the
    # worker grows until it is recycled for its size.
    limit_malloc_arenas(WORKER_ARENAS)
    try:
        detector = make_detector()
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            data = conn.recv()
        except EOFError:  # the parent is gone
            return
        if data is None:
            return
        result: DetectionResult | None = None
        error: str | None = None
        try:
            faces, width, height = detector.detect_bytes(data)
            result = DetectionResult(tuple(faces), width, height)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        release_free_memory()  # so the size reported (and judged) is what the worker keeps
        conn.send(_Reply(result, error, _resident_bytes()))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: SpawnContext, make_detector: Callable[[], BytesDetector]) -> None:
        parent_end, child_end = context.Pipe()
        self.process: SpawnProcess = context.Process(
            target=_serve,
            args=(child_end, make_detector),
            name="focal-face-detector",
            daemon=True,
        )
        self.process.start()
        # Only the child may hold its end, or its death would never show as EOF here.
        child_end.close()
        self.conn = parent_end
        self.ready = False
        self.tasks = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def _died(self, when: str) -> DetectionUnavailable:
        self.process.join(timeout=1.0)
        return DetectionUnavailable(
            f"face detector worker {self.pid} exited with code {self.process.exitcode} {when}"
        )

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            raise DetectionUnavailable(f"face detector worker did not start within {timeout:g}s")
        try:
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            raise self._died("while loading the model") from None
        if status != "ready":
            raise DetectionUnavailable(f"face detector failed to load: {detail}")
        self.ready = True

    def run(self, data: bytes, task_timeout: float, start_timeout: float) -> _Reply:
        """Run one task; raises DetectionUnavailable if the worker is no longer usable."""
        if not self.ready:
            self.wait_ready(start_timeout)
        try:
            self.conn.send(data)
        except (OSError, ValueError):
            raise self._died("before the task was sent") from None
        if not self.conn.poll(task_timeout):
            raise DetectionUnavailable(
                f"face detection took longer than {task_timeout:g}s; worker {self.pid} killed"
            )
        try:
            reply: _Reply = self.conn.recv()
        except (EOFError, OSError):
            raise self._died("during the task") from None
        return reply

    def stop(self) -> None:
        """Ask a healthy idle worker to exit; kill it if it does not."""
        if self.ready and self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.process.join(timeout=_STOP_GRACE)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5.0)
        self.conn.close()


class DetectorPool:
    """A bounded set of warm face detector processes.

    `detect` (async) and `detect_sync` (blocking) run `FaceDetector.detect_bytes` in a worker
    and return faces in pixels of the upright original. Workers start on first use or on
    `start()`; `close()`/`aclose()` (or leaving `async with`) stops them.

    `detector_factory` builds the detector inside each worker (default: a `FaceDetector` with
    the given options); it must be picklable, e.g. a module-level function or a partial.
    `limits` are the source limits the worker checks from the header before decoding: a last
    line behind the caller's own check, so an out-of-limit original costs the worker nothing.
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        max_tasks_per_worker: int = 500,
        max_rss_bytes: int = 300 * MIB,
        task_timeout: float = 10.0,
        start_timeout: float = 60.0,
        model_path: Path | None = None,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        min_face_size: float = DEFAULT_MIN_FACE_SIZE,
        max_side: int = DEFAULT_MAX_SIDE,
        intra_op_threads: int = 1,
        provider: str = "cpu",
        limits: Limits | None = None,
        detector_factory: Callable[[], BytesDetector] | None = None,
    ) -> None:
        if workers < 1 or max_tasks_per_worker < 1:
            raise ValueError("workers and max_tasks_per_worker must be at least 1")
        if task_timeout <= 0 or start_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self.max_tasks_per_worker = max_tasks_per_worker
        self.max_rss_bytes = max_rss_bytes
        self.task_timeout = task_timeout
        self.start_timeout = start_timeout
        self._make_detector: Callable[[], BytesDetector] = detector_factory or functools.partial(
            FaceDetector,
            model_path=model_path,
            score_threshold=score_threshold,
            min_face_size=min_face_size,
            max_side=max_side,
            intra_op_threads=intra_op_threads,
            provider=provider,
            limits=limits,
        )
        # spawn, not fork: the parent is a threaded server, and a fork would copy its locks.
        self._context = multiprocessing.get_context("spawn")
        self._slots: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(workers):
            self._slots.put(None)
        self._workers = workers
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._tasks_run = 0
        self._start_failure: str | None = None  # why the last worker failed to start
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="focal-detect")

    @property
    def tasks_run(self) -> int:
        """Tasks handed to a worker so far (including ones that failed)."""
        return self._tasks_run

    @property
    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._live if w.pid is not None)

    @property
    def state(self) -> str:
        """For readiness reports: warm (a worker has its model loaded), starting (workers
        are up, their model loading), cold (none yet: they start on first use), or
        unavailable (closed, or the last worker to start failed: see `start_failure`)."""
        with self._lock:
            if self._closed:
                return "unavailable"
            live = [worker for worker in self._live if worker.process.is_alive()]
        if any(worker.ready for worker in live):
            return "warm"
        if self._start_failure is not None:
            return "unavailable"
        return "starting" if live else "cold"

    @property
    def start_failure(self) -> str | None:
        return "the face detector pool is closed" if self._closed else self._start_failure

    def start(self, wait_ready: bool = False) -> None:
        """Start every idle empty slot's worker now rather than on first use; `wait_ready`:
        and wait until each has loaded its model (as long as loading takes: in a thread)."""
        taken: list[_Worker | None] = []
        for _ in range(self._workers):
            try:
                taken.append(self._slots.get_nowait())
            except queue.Empty:
                break
        started = [worker if worker is not None else self._spawn_or_none() for worker in taken]
        for worker in started:
            if wait_ready and worker is not None and not worker.ready:
                worker = self._ready_or_none(worker)
            self._slots.put(worker)

    def _ready_or_none(self, worker: _Worker) -> _Worker | None:
        try:
            worker.wait_ready(self.start_timeout)
        except DetectionUnavailable as error:
            self._start_failure = error.reason
            self._retire(worker, graceful=False)
            return None  # the next task tries again
        self._start_failure = None
        return worker

    async def detect(self, data: bytes) -> DetectionResult:
        if self._closed:
            raise DetectionUnavailable("the face detector pool is closed")
        loop = asyncio.get_running_loop()
        try:
            # In the caller's context, as asyncio.to_thread: log lines keep the request id.
            call = functools.partial(contextvars.copy_context().run, self.detect_sync, data)
            task = loop.run_in_executor(self._executor, call)
        except RuntimeError:  # the executor shut down since the check above
            raise DetectionUnavailable("the face detector pool is closed") from None
        return await task

    def detect_sync(self, data: bytes) -> DetectionResult:
        worker = self._acquire()
        try:
            with self._lock:
                self._tasks_run += 1
            reply = worker.run(data, self.task_timeout, self.start_timeout)
        except BaseException as error:
            if not worker.ready and isinstance(error, DetectionUnavailable):
                self._start_failure = error.reason  # it never loaded its model
            self._replace(worker)
            raise
        self._start_failure = None
        worker.tasks += 1
        worn_out = worker.tasks >= self.max_tasks_per_worker
        if worn_out or reply.resident_bytes > self.max_rss_bytes:
            self._replace(worker, graceful=True)
        else:
            self._release(worker)
        if reply.result is None:
            raise DetectionUnavailable(f"face detection failed: {reply.error}")
        return reply.result

    def close(self) -> None:
        """Stop every worker; calls in flight get DetectionUnavailable."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._live)
        for worker in workers:
            # terminate, not a pipe message: a worker may be busy with another thread's task.
            worker.process.terminate()
        for worker in workers:
            worker.process.join(timeout=_STOP_GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5.0)
        idle_slots = 0
        while True:  # idle slots: nobody else holds these, so their pipes can close now
            try:
                idle = self._slots.get_nowait()
            except queue.Empty:
                break
            idle_slots += 1
            if idle is not None:
                self._retire(idle, graceful=False)
        for _ in range(idle_slots):  # emptied, so that a caller waiting for a slot wakes up
            self._slots.put(None)
        # Queued calls still run, to get DetectionUnavailable rather than a cancellation.
        self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> DetectorPool:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> DetectorPool:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self._make_detector)
        with self._lock:
            self._live.add(worker)
            closed = self._closed
        if closed:  # close() ran while this one was starting and did not see it
            self._retire(worker, graceful=False)
            raise DetectionUnavailable("the face detector pool is closed")
        return worker

    def _spawn_or_none(self) -> _Worker | None:
        try:
            return self._spawn()
        except (OSError, DetectionUnavailable) as error:
            self._start_failure = str(error)
            return None  # the next task tries again

    def _acquire(self) -> _Worker:
        if self._closed:
            raise DetectionUnavailable("the face detector pool is closed")
        slot = self._slots.get()
        if self._closed:
            if slot is not None:
                self._retire(slot, graceful=False)
            self._slots.put(None)
            raise DetectionUnavailable("the face detector pool is closed")
        if slot is not None:
            return slot
        try:
            return self._spawn()
        except BaseException as exc:
            self._slots.put(None)
            self._start_failure = str(exc)
            if isinstance(exc, OSError):
                raise DetectionUnavailable(f"could not start a face detector: {exc}") from exc
            raise

    def _release(self, worker: _Worker) -> None:
        if self._closed:
            self._retire(worker, graceful=False)
            self._slots.put(None)
        else:
            self._slots.put(worker)

    def _replace(self, worker: _Worker, graceful: bool = False) -> None:
        """Retire a worker and fill its slot with a fresh one, started now so it is warm."""
        self._retire(worker, graceful)
        self._slots.put(None if self._closed else self._spawn_or_none())

    def _retire(self, worker: _Worker, graceful: bool) -> None:
        if graceful:
            worker.stop()
        else:
            worker.kill()
        with self._lock:
            self._live.discard(worker)
