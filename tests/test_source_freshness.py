"""`dbt source freshness` for real (dbt against the embedded PostgreSQL): each raw source is judged against the
thresholds its YAML declares (warn after 45 days, error after 120), recorded in ops.source_freshness, and shown
by `njia status` (text and --json) and `njia freshness`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from njia import status, transform, warehouse
from njia.settings import Settings

NJIA = str(Path(sys.executable).with_name("njia"))


def _loaded(settings: Settings, *, organisations_days_ago: int, routes_days_ago: int | None) -> None:
    """A registry refreshed `organisations_days_ago` days ago and, unless None, one route row loaded
    `routes_days_ago` days ago (fictional)."""
    with warehouse.connect(settings) as conn:
        conn.execute("delete from raw.route_reports")
        conn.execute("delete from raw.organisations")
        conn.execute(
            "insert into raw.organisations (organisation_code, organisation_name, loaded_at)"
            " values ('ALPHA', 'Alpha Fictional Trust', now() - make_interval(days => %s))",
            (organisations_days_ago,),
        )
        if routes_days_ago is None:
            return
        submission = conn.execute(
            "insert into ops.submissions (organisation_code, file_path, file_name, sha256, size_bytes, status,"
            " rows_read, rows_loaded) values ('ALPHA', 'ALPHA/a.csv', 'a.csv',"
            " encode(sha256(random()::text::bytea), 'hex'), 1, 'accepted', 1, 1)"  # other bytes at every call
            " returning submission_id"
        ).fetchone()[0]
        conn.execute(
            "insert into raw.route_reports (submission_id, row_number, organisation_code, reporting_period,"
            " period_start, period_end, origin_country, destination_country, exploitation_type, cases_estimated,"
            " loaded_at) values (%s, 2, 'ALPHA', '2024', '2024-01-01', '2024-12-31', 'KE', 'QA', 'forced_labour',"
            " 12, now() - make_interval(days => %s))",
            (submission, routes_days_ago),
        )


def _by_source(result: transform.FreshnessResult) -> dict[str, transform.SourceFreshness]:
    return {s.source: s for s in result.sources}


def test_stale_sources_warn_and_error_as_declared(settings: Settings) -> None:
    _loaded(settings, organisations_days_ago=50, routes_days_ago=130)
    result = transform.freshness(settings)
    found = _by_source(result)
    assert set(found) == {"raw.organisations", "raw.route_reports"}
    assert found["raw.organisations"].status == "warn"
    assert found["raw.route_reports"].status == "error"
    assert not result.ok and result.checked
    assert 129 * 86_400 < found["raw.route_reports"].age_seconds < 131 * 86_400
    assert found["raw.route_reports"].warn_after == "45 days" and found["raw.route_reports"].error_after == "120 days"
    assert "raw.route_reports error (last load 130 days ago)" in result.summary

    rows = status.summary(settings)["source_freshness"]
    assert [(r["source"], r["status"]) for r in rows] == [("raw.organisations", "warn"), ("raw.route_reports", "error")]


def _alerts(settings: Settings) -> list[tuple]:
    with warehouse.connect(settings) as conn:
        return conn.execute("select kind, subject, detail from ops.alerts order by alert_id").fetchall()


def test_stale_sources_alert_once_per_window(settings: Settings) -> None:
    """A stale source is told (ops.alerts records every alert, sent or not); the same finding again, within
    NJIA_ALERT_REPEAT_HOURS, is not; a source getting staler (warn → error) is; fresh sources say nothing."""
    _loaded(settings, organisations_days_ago=0, routes_days_ago=50)
    transform.freshness(settings)
    transform.freshness(settings)  # the transform DAG checks after every build
    assert _alerts(settings) == [
        (
            "sources_stale",
            "1 source(s) stale: raw.route_reports warn",
            "raw.route_reports: last load 50 days ago; warn after 45 days, error after 120 days",
        )
    ]

    _loaded(settings, organisations_days_ago=50, routes_days_ago=130)
    transform.freshness(settings)
    assert _alerts(settings)[1:] == [
        (
            "sources_stale",
            "2 source(s) stale: raw.organisations warn, raw.route_reports error",
            "raw.organisations: last load 50 days ago; warn after 45 days, error after 120 days\n"
            "raw.route_reports: last load 130 days ago; warn after 45 days, error after 120 days",
        )
    ]

    _loaded(settings, organisations_days_ago=0, routes_days_ago=1)
    assert transform.freshness(settings).ok
    assert len(_alerts(settings)) == 2


def test_an_empty_table_is_stale_and_the_latest_check_is_shown(settings: Settings) -> None:
    _loaded(settings, organisations_days_ago=0, routes_days_ago=None)
    found = _by_source(transform.freshness(settings))
    assert found["raw.route_reports"].status == "error" and found["raw.route_reports"].max_loaded_at is None
    assert found["raw.organisations"].status == "pass"

    _loaded(settings, organisations_days_ago=0, routes_days_ago=1)
    assert transform.freshness(settings).ok
    with warehouse.connect(settings) as conn:
        assert conn.execute("select count(*) from ops.source_freshness").fetchone() == (4,)  # the history stays
    rows = status.summary(settings)["source_freshness"]
    assert [(r["source"], r["status"]) for r in rows] == [("raw.organisations", "pass"), ("raw.route_reports", "pass")]


def test_cli_freshness_and_status(settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NJIA_")}
    env.update(NJIA_HOME=str(settings.home_dir), NJIA_WAREHOUSE_URL=settings.warehouse_url.get_secret_value())

    def njia(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NJIA, *args], env=env, capture_output=True, text=True, timeout=600)

    before = njia("status")
    assert before.returncode == 0, before.stderr
    assert "source freshness: not checked yet" in before.stdout

    _loaded(settings, organisations_days_ago=50, routes_days_ago=130)
    checked = njia("freshness")
    assert checked.returncode == 1, checked.stdout + checked.stderr  # a source past its error threshold
    assert "raw.route_reports error (last load 130 days ago)" in checked.stdout

    text = njia("status")
    assert text.returncode == 0, text.stderr
    lines = [line.split() for line in text.stdout.splitlines() if line.strip().startswith("raw.")]
    assert [(w[0], w[1]) for w in lines] == [("raw.organisations", "warn"), ("raw.route_reports", "error")]
    assert "warn after 45 days, error after 120 days" in text.stdout

    as_json = njia("status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    shown = {r["source"]: r for r in json.loads(as_json.stdout)["source_freshness"]}
    assert shown["raw.organisations"]["status"] == "warn" and shown["raw.route_reports"]["status"] == "error"
    assert 49 * 86_400 < shown["raw.organisations"]["age_seconds"] < 51 * 86_400
