"""The yearly report DAG parses, is scheduled mid-January for the year before, and its task writes the pack
to <outbox>/<year>/ (the real run is `dag.test()` in tests/test_dags.py)."""

from __future__ import annotations

import ast
import logging
import sys
from datetime import UTC, datetime

import pytest
from repo_paths import DAGS_DIR


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
    top = {
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    }
    assert top <= {"__future__", "logging", "datetime", "typing", "airflow.sdk", "njia_common"}


def test_next_run_is_15_january_for_the_year_before(dag):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    info = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=DataInterval(
            datetime(2025, 1, 15, 3, tzinfo=UTC), datetime(2025, 1, 15, 3, tzinfo=UTC)
        ),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
    )
    assert info.logical_date.isoformat().startswith("2026-01-15T03:00")  # 06:00 in Nairobi
    from njia_yearly_report import report_year

    assert report_year({}, info.logical_date) == 2025
    assert report_year({"year": None}, info.logical_date) == 2025
    assert report_year({"year": 2021}, info.logical_date) == 2021
