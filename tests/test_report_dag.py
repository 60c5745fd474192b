"""The yearly report DAG parses, is scheduled mid-January for the year before, and its task writes the pack
to <outbox>/<year>/ (with write_pack stubbed: the pack itself is tested in test_report.py)."""

from __future__ import annotations

import ast
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from njia.paths import DAGS_DIR

pytest.importorskip("airflow")


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    logging.getLogger("airflow").setLevel(logging.WARNING)
    if str(DAGS_DIR) not in sys.path:  # the dag-processor puts the DAGs folder on sys.path (njia_common)
        sys.path.insert(0, str(DAGS_DIR))
    bag = DagBag(dag_folder=str(DAGS_DIR / "njia_yearly_report.py"), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["njia_yearly_report"]


def test_dag_parses_with_schedule_params_and_docs(dag):
    from airflow.sdk import CronTriggerTimetable

    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == "0 6 15 1 *"
    assert "Africa/Nairobi" in str(dag.timetable.timezone)
    assert dag.catchup is False
    assert "year before" in dag.doc_md
    assert dag.params["year"] is None
    (t,) = dag.tasks
    assert t.task_id == "write_report_pack" and t.retries >= 1
    # thin: at parse time the DAG file imports only Airflow's SDK and the shared helpers; the rest is
    # imported inside the task
    tree = ast.parse((DAGS_DIR / "njia_yearly_report.py").read_text(encoding="utf-8"))
    top = {n.module if isinstance(n, ast.ImportFrom) else a.name for n in tree.body
           if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert top <= {"__future__", "logging", "datetime", "typing", "airflow.sdk", "njia_common"}


def test_next_run_is_15_january_for_the_year_before(dag):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    info = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=DataInterval(datetime(2025, 1, 15, 3, tzinfo=UTC),
                                                  datetime(2025, 1, 15, 3, tzinfo=UTC)),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
    )
    assert info.logical_date.isoformat().startswith("2026-01-15T03:00")  # 06:00 in Nairobi
    from njia_yearly_report import report_year

    assert report_year({}, info.logical_date) == 2025
    assert report_year({"year": None}, info.logical_date) == 2025
    assert report_year({"year": 2021}, info.logical_date) == 2021


def test_task_writes_to_the_outbox_year_folder(dag, monkeypatch, tmp_path):
    import njia.report

    calls = []

    def fake_write_pack(settings, year, out_dir, **kw):
        calls.append((year, Path(out_dir)))
        return Path(out_dir)

    monkeypatch.setattr(njia.report, "write_pack", fake_write_pack)
    monkeypatch.setenv("NJIA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NJIA_REPORTS_OUTBOX", str(tmp_path / "outbox"))
    fn = dag.get_task("write_report_pack").python_callable
    run = SimpleNamespace(run_after=datetime(2026, 1, 15, 3, tzinfo=UTC))
    assert fn(params={"year": None}, dag_run=run) == str(tmp_path / "outbox" / "2025")
    assert fn(params={"year": 2023}, dag_run=run) == str(tmp_path / "outbox" / "2023")
    assert calls == [(2025, tmp_path / "outbox" / "2025"), (2023, tmp_path / "outbox" / "2023")]

    def no_data(*a, **k):
        raise njia.report.ReportError("there are no reporting figures for 2025")

    monkeypatch.setattr(njia.report, "write_pack", no_data)
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="no report pack for 2025"):
        fn(params={}, dag_run=run)
