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
