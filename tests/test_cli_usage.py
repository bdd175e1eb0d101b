"""focal usage: the catalog's usage as a table, as JSON, and as a chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from focal.catalog import Metric, UsageStore, open_catalog
from focal.catalog.times import now_micros
from focal.catalog.usage import DAY_MICROS, day_number
from focal.cli import app

runner = CliRunner()


def focal(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "FOCAL_DATA_DIR": str(data_dir),
        "FOCAL_CATALOG_URL": None,
        "FOCAL_CONFIG": None,
        "FOCAL_PRICE_PER_1000_TRANSFORMATIONS": "1.5",
        "COLUMNS": "120",
    }
    result = runner.invoke(app, ["usage", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def record_usage(data_dir: Path) -> None:
    """Four transformations today and two three days ago; five deliveries today."""
    engine = open_catalog(f"sqlite:///{data_dir / 'focal.db'}")
    usage = UsageStore(engine)
    now = now_micros()
    for n in range(4):
        usage.count_transformation(f"today-{n}", now)
    for n in range(2):
        usage.count_transformation(f"before-{n}", now - 3 * DAY_MICROS)
    usage.add(Metric.DELIVERIES, [(day_number(now), 5)])
    engine.dispose()


def test_json_report(tmp_path: Path) -> None:
    record_usage(tmp_path)
    code, out, _ = focal(tmp_path, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["total"]["unique_transformations"] == 6
    assert report["total"]["deliveries"] == 5
    assert report["total"]["cost"] == 0.009
    assert len(report["days"]) == 30


def test_table_and_chart_for_chosen_days(tmp_path: Path) -> None:
    record_usage(tmp_path)
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=5)).isoformat()
    code, out, _ = focal(tmp_path, "--from", start, "--chart")
    assert code == 0
    assert today.isoformat() in out and start in out
    assert "total" in out and "$0.0090" in out
    assert "6 unique transformations in the last 30 days" in out
    assert "unique transformations per day" in out  # the chart's title
    assert "█" in out


def test_bad_dates_are_explained(tmp_path: Path) -> None:
    code, _, err = focal(tmp_path, "--from", "last week")
    assert code == 2
    assert "YYYY-MM-DD" in err
    code, _, err = focal(tmp_path, "--from", "2026-02-02", "--to", "2026-02-01")
    assert code == 2
    assert "before" in err


def test_hosted_images_are_reported_with_their_quotas(tmp_path: Path) -> None:
    record_usage(tmp_path)
    month = datetime.now(UTC).strftime("%Y-%m")
    runner_env = {"FOCAL_HOSTED_DELIVERIES_QUOTA": "1000"}
    result = runner.invoke(
        app,
        ["usage"],
        env={
            "FOCAL_DATA_DIR": str(tmp_path),
            "FOCAL_CATALOG_URL": None,
            "FOCAL_CONFIG": None,
            "COLUMNS": "200",
            **runner_env,
        },
    )
    assert result.exit_code == 0
    assert f"hosted images: 0 stored; 5 delivered in {month} of a quota of 1,000" in result.stdout
    code, out, _ = focal(tmp_path, "--json")
    hosted = json.loads(out)["hosted"]
    assert hosted == {
        "images_stored": 0,
        "images_quota": None,
        "month": month,
        "deliveries_this_month": 5,
        "deliveries_quota": None,
    }
