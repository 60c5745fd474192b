"""The submission monitor and the failure callback, on a real warehouse with ledger rows written by the
loader's own functions."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest import load
from ingest.normalise import period
from ingest.registry import RegistryError
from njia import monitor, warehouse
from njia.settings import Settings

Q3_2025 = monitor.last_closed_quarter(date(2025, 11, 28))


@pytest.mark.parametrize(
    ("today", "label", "start", "last_day"),
    [
        (date(2025, 11, 28), "2025-Q3", date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), "2025-Q3", date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 9, 30), "2025-Q2", date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 1, 1), "2024-Q4", date(2024, 10, 1), date(2024, 12, 31)),
        (date(2025, 3, 31), "2024-Q4", date(2024, 10, 1), date(2024, 12, 31)),
        (date(2024, 4, 15), "2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
    ],
)
def test_last_closed_quarter(today: date, label: str, start: date, last_day: date) -> None:
    assert monitor.last_closed_quarter(today) == monitor.Quarter(label, start, last_day)


def _registry(settings: Settings, rows: list[tuple[str, str, str]]) -> None:
    with settings.organisations_path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["organisation_code", "organisation_name", "organisation_type", "county_code", "active"])
        out.writerows([code, name, "ngo", "047", active] for code, name, active in rows)


def _submission(conn, organisation: str, periods: list[str], status: str = "accepted") -> None:
    submission_id = load.insert_submission(
        conn,
        organisation_code=organisation,
        file_path=f"/inbox/{organisation}/{'_'.join(periods)}-{status}.csv",
        file_name=f"{'_'.join(periods)}.csv",
        sha256=f"{organisation}{'_'.join(periods)}{status}".ljust(64, "0")[:64],
        size_bytes=100,
        status=status,
        reason="missing_columns" if status == "rejected" else None,
    )
    if status != "rejected":
        load.insert_periods(conn, submission_id, organisation, [period(p) for p in periods])


def test_missing_submissions_for_the_last_closed_quarter(settings: Settings) -> None:
    _registry(
        settings,
        [
            ("QUARTERLY", "Reports by quarter", "true"),
            ("YEARLY", "Reports the whole year", "yes"),
            ("MONTHLY", "Sent July only", ""),
            ("LATE", "Last sent Q2", "true"),
            ("EARLY", "Sent Q4 but not Q3", "1"),
            ("REJECTED", "Only a rejected file", "true"),
            ("WITHERRORS", "Accepted with errors", "true"),
            ("SLEEPING", "Inactive partner", "false"),
            ("RETIRED", "Inactive today, active at last ingest", "no"),
        ],
    )
    with warehouse.connect(settings) as conn:
        conn.execute(
            "insert into raw.organisations (organisation_code, organisation_name, active) values"
            " ('RAWONLY', 'Known from the last ingest', true), ('RETIRED', 'Was active', true)"
        )
        _submission(conn, "QUARTERLY", ["2025-Q2", "2025-Q3"])
        _submission(conn, "YEARLY", ["2025"])
        _submission(conn, "MONTHLY", ["2025-07"])
        _submission(conn, "LATE", ["2025-Q1"])
        _submission(conn, "LATE", ["2025-Q2"])
        _submission(conn, "EARLY", ["2025-10"])
        _submission(conn, "REJECTED", ["2025-Q3"], status="rejected")
        _submission(conn, "WITHERRORS", ["2025-09"], status="accepted_with_errors")

    missing = monitor.missing_submissions(settings, Q3_2025)

    assert [m.as_json() for m in missing] == [
        {
            "organisation_code": "EARLY",
            "organisation_name": "Sent Q4 but not Q3",
            "period": "2025-Q3",
            "last_period": "2025-10",
        },
        {
            "organisation_code": "LATE",
            "organisation_name": "Last sent Q2",
            "period": "2025-Q3",
            "last_period": "2025-Q2",
        },
        {
            "organisation_code": "RAWONLY",
            "organisation_name": "Known from the last ingest",
            "period": "2025-Q3",
            "last_period": None,
        },
        {
            "organisation_code": "REJECTED",
            "organisation_name": "Only a rejected file",
            "period": "2025-Q3",
            "last_period": None,
        },
    ]


def test_default_quarter_is_the_last_closed_one(settings: Settings) -> None:
    _registry(settings, [("SILENT", "Never sent anything", "true")])
    [m] = monitor.missing_submissions(settings)
    assert m.period == monitor.last_closed_quarter(date.today()).label


def test_registry_falls_back_to_the_warehouse_copy(settings: Settings) -> None:
    with pytest.raises(RegistryError):  # no CSV and nothing in raw.organisations: a configuration error
        monitor.missing_submissions(settings, Q3_2025)
    with warehouse.connect(settings) as conn:
        conn.execute("insert into raw.organisations (organisation_code, organisation_name) values ('ONLY', 'x')")
    assert [m.organisation_code for m in monitor.missing_submissions(settings, Q3_2025)] == ["ONLY"]


def _runs(settings: Settings) -> list[tuple]:
    with warehouse.connect(settings) as conn:
        return conn.execute("select command, ok, detail #>> '{}' from ops.runs order by run_id").fetchall()


def test_alert_records_a_run(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    missing = [monitor.MissingSubmission("LATE", "Last sent Q2", "2025-Q3", "2025-Q2")]
    monitor.alert(settings, Q3_2025, missing)
    monitor.alert(settings, Q3_2025, [])
    assert _runs(settings) == [
        ("submission_monitor", False, "2025-Q3: no submission from LATE"),
        ("submission_monitor", True, "2025-Q3: every active registered organisation has submitted"),
    ]
    assert "no submission from LATE (Last sent Q2) for 2025-Q3; last accepted period: 2025-Q2" in caplog.text


def _failure_context() -> dict:
    ti = SimpleNamespace(
        dag_id="njia_ingest", task_id="process_organisation", map_index=3, try_number=2, rendered_map_index="ALPHA"
    )
    return {"task_instance": ti, "run_id": "manual__1", "exception": RuntimeError("disk full")}


def test_failure_callback_records_the_failure(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    monitor.task_failed(_failure_context())
    assert _runs(settings) == [
        ("airflow:njia_ingest.process_organisation[ALPHA]", False, "run manual__1, try 2: disk full")
    ]


def test_failure_callback_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    monitor.task_failed(_failure_context())  # the warehouse is down: logged, not raised
    assert "Njia task njia_ingest.process_organisation[ALPHA] failed: run manual__1, try 2: disk full" in caplog.text
    assert "could not record the failure" in caplog.text
