"""Calls egress as billed (GB per calendar month past 1,000 GB free, $0.05 per GB), in
`focal usage`, and `focal calls serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from typer.testing import CliRunner

from conftest import free_port
from focal.catalog import open_catalog
from focal.catalog.calls import CallsAppStore
from focal.catalog.usage import date_number
from focal.cli import app

GB = 1_000_000_000


def record(data_dir: Path, egress: dict[date, dict[str, int]]) -> CallsAppStore:
    engine = open_catalog(f"sqlite:///{data_dir / 'focal.db'}")
    apps = CallsAppStore(engine)
    for day, by_app in egress.items():
        apps.add_egress(date_number(day), by_app)
    return apps


def usage(data_dir: Path, *args: str) -> tuple[int, str]:
    env = {"FOCAL_DATA_DIR": str(data_dir), "FOCAL_CATALOG_URL": None, "FOCAL_CONFIG": None}
    result = CliRunner().invoke(app, ["usage", *args], env={**env, "COLUMNS": "200"})
    return result.exit_code, result.stdout


def test_the_free_allowance_is_per_calendar_month_and_counted_from_its_first_day(
    tmp_path: Path,
) -> None:
    record(
        tmp_path,
        {
            date(2026, 1, 10): {"a": 900 * GB, "b": 50 * GB},
            date(2026, 1, 20): {"a": 100 * GB},  # 1,050 GB in January: 50 billable
            date(2026, 2, 1): {"b": 10 * GB},  # a new month: free again
        },
    )
    code, out = usage(tmp_path, "--from", "2026-01-15", "--to", "2026-02-28", "--json")
    assert code == 0
    calls = json.loads(out)["calls"]
    # From the 15th: 110 GB sent, of which 50 past January's allowance (used from the 10th).
    assert calls["egress_bytes"] == 110 * GB
    assert calls["billable_gb"] == 50
    assert calls["cost"] == 2.5
    assert {a["appId"]: a["egress_gb"] for a in calls["apps"]} == {"a": 100, "b": 10}
    code, out = usage(tmp_path, "--from", "2026-01-01", "--to", "2026-01-31")
    assert code == 0
    assert "calls: 1,050.000000 GB sent to clients; 50.000000 GB past 1,000 GB free" in out
    assert "$2.5000" in out


def test_focal_calls_serve_runs_the_sfu(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FOCAL_")},
        "FOCAL_DATA_DIR": str(tmp_path),
        "FOCAL_API_TOKENS": "serve-token",
        "FOCAL_CALLS_ICE_ADDRESSES": "127.0.0.1",
    }
    focal = Path(sys.executable).parent / "focal"
    server = subprocess.Popen(
        [str(focal), "calls", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):  # until it listens (it asserts nothing about time)
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        made = httpx.post(
            f"{url}/calls/v1/apps",
            json={"name": "alone"},
            headers={"Authorization": "Bearer serve-token"},
        )
        assert made.status_code == 201
        secret = made.json()["result"]["secret"]
        app_id = made.json()["result"]["appId"]
        session = httpx.post(
            f"{url}/calls/v1/apps/{app_id}/sessions/new",
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert session.status_code == 201 and session.json()["sessionId"]
        assert httpx.get(f"{url}/calls/room").status_code == 200
    finally:
        server.terminate()
        server.wait(30)
