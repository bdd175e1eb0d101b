"""`python -m bench.stream`: live streams — live-edge lag, clip.mp4 time to first byte and
total, CPU per live input while ingesting, and how many inputs 2 cores hold (an estimate).

A 1080p 4 Mbps broadcast (H.264 with 2 s GOPs, AAC) is encoded once and cached under
build/; it is pushed in real time over RTMP to a real `focal serve` (FOCAL_STREAM_ENABLED).
Each figure comes with a reference measured in the same run on the same machine, since the
machine is shared: the server's ingest CPU against PyAV remuxing the same file in one
process with nothing else (the floor of remuxing), and each clip.mp4 against fetching the
same segments as they are stored (what any clip must at least read).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import av.container
import httpx

from bench.procfs import cpu_seconds, descendants
from bench.server import free_port

CACHE = Path("build/bench-stream")
RESULTS = Path("bench-results/stream.json")
TOKEN = "bench-stream-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLIP_REPEATS = 5
# How often the live playlist is polled: the lag's resolution. The polling's own CPU is in
# the server's ingest figure (4 small requests a second), which it overstates a little.
POLL_SECONDS = 0.25


def _media() -> ModuleType:
    """The tests' broadcast helpers (encode a pattern, push it in real time), shared so
    that the bench pushes exactly as the tests do."""
    path = Path(__file__).resolve().parent.parent / "tests" / "stream" / "media.py"
    spec = importlib.util.spec_from_file_location("stream_media", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def broadcast_file(media: ModuleType, seconds: float) -> Path:
    path = CACHE / f"1080p-4mbps-{seconds:g}s.flv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"encoding {seconds:g} s of 1080p at 4 Mbit/s once, into {path} …", flush=True)
        partial = path.with_suffix(".partial.flv")
        media.encode_pattern(
            partial, seconds, size="1920x1080", bitrate=4_000_000, preset="ultrafast"
        )
        partial.rename(path)
    return path


def remux_floor(path: Path) -> float:
    """CPU seconds PyAV takes to remux the file into MPEG-TS segments in this process."""
    from focal.stream.recorder import BytePipe, record

    pipe = BytePipe()
    pipe.feed(path.read_bytes())
    pipe.end()
    before = time.process_time()
    record(pipe, lambda segment: None, 2.0, 1 << 30)
    return time.process_time() - before


def _server(data: Path, rtmp_port: int, http_port: int, log_path: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "FOCAL_DATA_DIR": str(data),
        "FOCAL_API_TOKENS": TOKEN,
        "FOCAL_STREAM_ENABLED": "true",
        "FOCAL_STREAM_RTMP_PORT": str(rtmp_port),
        "FOCAL_DETECTOR_WARM_START": "false",
        "FOCAL_ACCESS_LOG": "false",
    }
    script = str(Path(sys.executable).with_name("focal"))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb")  # noqa: SIM115 - kept open for the child's life
    command = [script, "serve", "--port", str(http_port)]
    return subprocess.Popen(command, env=environment, stdout=log, stderr=log)


def _wait(check: Any, what: str, limit: float = 120.0) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"gave up waiting for {what}")


def _timed_get(client: httpx.Client, url: str) -> tuple[float, float, int]:
    """(time to first byte, total time, bytes) of one GET."""
    began = time.perf_counter()
    first: float | None = None
    size = 0
    with client.stream("GET", url) as answer:
        if answer.status_code != 200:
            raise SystemExit(f"{url}: {answer.status_code} {answer.read()[:200]!r}")
        for chunk in answer.iter_raw():
            if first is None:
                first = time.perf_counter() - began
            size += len(chunk)
    total = time.perf_counter() - began
    return first if first is not None else total, total, size


def run(seconds: float, clips: list[float], log_path: Path) -> dict[str, Any]:
    media = _media()
    source = broadcast_file(media, seconds)
    with av.open(str(source)) as probe:
        assert isinstance(probe, av.container.InputContainer)
        bitrate = probe.bit_rate
    floor_cpu = remux_floor(source)
    with tempfile.TemporaryDirectory(prefix="focal-bench-stream-") as temporary:
        data = Path(temporary)
        rtmp_port, http_port = free_port(), free_port()
        server = _server(data, rtmp_port, http_port, log_path)
        base = f"http://127.0.0.1:{http_port}"
        try:
            with httpx.Client(base_url=base, timeout=300) as client:
                _wait(lambda: client.get("/healthz").status_code == 200, "the server")
                live_input = client.post("/stream/live_inputs", headers=AUTH, json={}).json()
                key = live_input["result"]["rtmp"]["streamKey"]
                uid = live_input["result"]["uid"]
                url = f"rtmp://127.0.0.1:{rtmp_port}/live/{key}"
                pids = [server.pid, *descendants(server.pid)]
                cpu_before = cpu_seconds(pids)
                pusher = subprocess.Popen(
                    media.push_command(source, url, report=True), stdout=subprocess.PIPE, text=True
                )
                sent: dict[float, float] = {}  # keyframe pts -> when the pusher sent it

                def read_reports() -> None:
                    assert pusher.stdout is not None
                    for line in pusher.stdout:
                        _, pts, when = line.split()
                        sent[round(float(pts), 2)] = float(when)

                reports = threading.Thread(target=read_reports, daemon=True)
                reports.start()
                wall_began = time.monotonic()
                manifest = f"/stream/{uid}/manifest/video.m3u8"
                listed_at: dict[float, float] = {}  # segment end (the next keyframe) -> seen
                while True:
                    running = pusher.poll() is None
                    answer = client.get(manifest)
                    now = time.time()
                    if answer.status_code == 200:
                        end = float(answer.headers["preview-start-seconds"])
                        for line in answer.text.splitlines():
                            if line.startswith("#EXTINF:"):
                                end += float(line[8:].split(",")[0])
                                listed_at.setdefault(round(end, 2), now)
                    if not running:
                        break
                    time.sleep(POLL_SECONDS)
                reports.join(10)
                # Lag: from the keyframe that closes a segment leaving the pusher to the
                # segment listed (the pusher's own lateness under load is left out).
                lags = [seen - sent[end] for end, seen in listed_at.items() if end in sent]
                ingest_wall = time.monotonic() - wall_began
                print(f"pushed {seconds:g} s; {len(lags)} segments seen live", flush=True)
                ingest_cpu = cpu_seconds(pids) - cpu_before
                videos = f"/stream/live_inputs/{live_input['result']['uid']}/videos"
                video = _wait(
                    lambda: [
                        v
                        for v in client.get(videos, headers=AUTH).json()["result"]
                        if v["status"]["state"] == "ready"
                    ],
                    "the recording",
                )[0]
                vod = client.get(f"/stream/{video['uid']}/manifest/video.m3u8").text
                segments = [line for line in vod.splitlines() if line.startswith("/stream/")]
                clip_results = {}
                for duration in clips:
                    clip_url = f"/stream/{video['uid']}/clip.mp4?time=2s&duration={duration:g}s"
                    raw = segments[1 : 1 + round(duration / 2)]
                    timings, references = [], []
                    for _ in range(CLIP_REPEATS):  # clip and reference take turns
                        timings.append(_timed_get(client, clip_url))
                        started = time.perf_counter()
                        for segment in raw:
                            client.get(segment).raise_for_status()
                        references.append(time.perf_counter() - started)
                    ttfb = statistics.median(t[0] for t in timings)
                    total = statistics.median(t[1] for t in timings)
                    reference = statistics.median(references)
                    clip_results[f"{duration:g}s"] = {
                        "ttfb_seconds": round(ttfb, 3),
                        "total_seconds": round(total, 3),
                        "bytes": timings[0][2],
                        "segments_fetch_seconds": round(reference, 3),
                        "total_vs_segments_fetch": round(total / reference, 2),
                    }
        finally:
            server.terminate()
            server.wait(30)
    per_input = ingest_cpu / max(ingest_wall, seconds)  # cores per real-time input
    return {
        "stream": {"seconds": seconds, "size": "1920x1080", "bitrate": bitrate, "gop_seconds": 2},
        "live_edge_lag_seconds": {
            "median": round(statistics.median(lags), 3),
            "max": round(max(lags), 3),
            "segments": len(lags),
        },
        "clips": clip_results,
        "ingest": {
            "server_cpu_seconds": round(ingest_cpu, 2),
            "wall_seconds": round(ingest_wall, 2),
            "cores_per_input": round(per_input, 4),
            "remux_floor_cpu_seconds": round(floor_cpu, 2),
            "server_vs_floor": round(ingest_cpu / floor_cpu, 2) if floor_cpu else None,
            "inputs_2_cores_hold_estimate": int(2 / per_input) if per_input else None,
            "estimate_note": "2 cores / cores_per_input, from one input; not pushed to it",
        },
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 36 s stream, 30 s clips only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seconds, clips = (36.0, [30.0]) if args.quick else (66.0, [30.0, 60.0])
    results = run(seconds, clips, args.output.with_suffix(".server.log"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
