"""`njia status`: what it shows (alerts, the portal's audit, freshness) and what it says on an older warehouse."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from njia import alerts, warehouse
from njia.alerts import Alert
from njia.cli import main
from njia.settings import Settings

FAILED = Alert("task_failed", "njia_ingest.process_organisation failed", ("run manual__1, try 3: disk full",))


def test_status_shows_the_alerts_sent(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    alerts.notify(settings, FAILED)
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    monkeypatch.setenv("NJIA_HOME", str(settings.home_dir))
    out = CliRunner().invoke(main, ["status"])
    assert out.exit_code == 0, out.output
    assert f"task_failed: {FAILED.subject} (no channel configured)" in out.output
    data = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    assert data["alerts"][0]["subject"] == FAILED.subject


def test_status_on_an_older_warehouse_says_to_run_init(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with warehouse.connect(settings) as conn:  # as if this version's last migration had not been applied yet
        conn.execute("delete from ops.schema_migrations where version = '060_alerts'")
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    out = CliRunner().invoke(main, ["status"])
    assert out.exit_code != 0
    assert "1 migration(s) not applied: 060_alerts" in out.output and "run `njia init`" in out.output


def test_status_shows_the_last_run_of_each_step_and_who_has_not_reported(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from njia.runlog import record_run

    settings.organisations_path.write_text(
        "organisation_code,organisation_name,organisation_type,county_code,active\n"
        "QUIET,Quiet Fictional Trust,ngo,047,true\n",
        encoding="utf-8",
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with warehouse.connect(settings) as conn:
        record_run(conn, "ingest", start, True, "2 file(s) accepted=2")
        record_run(conn, "ingest", start + dt.timedelta(hours=1), True, "1 file(s) rejected=1")
        record_run(conn, "build", start + dt.timedelta(hours=2), False, "dbt build: FAILED")
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    monkeypatch.setenv("NJIA_ORGANISATIONS", str(settings.organisations_path))
    out = CliRunner().invoke(main, ["status"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    runs = [line for line in lines if line.startswith("  2026-01-01")]
    assert len(runs) == 2 and "build" in runs[0] and "FAILED" in runs[0]  # one line a step, newest first
    assert "1 file(s) rejected=1" in runs[1]
    assert any(line.startswith("nothing received for ") and line.endswith("from: QUIET") for line in lines)
    data = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    assert [m["organisation_code"] for m in data["missing_last_quarter"]["organisations"]] == ["QUIET"]
